// Quickstart: run it with `go run ./examples/quickstart`.
//
// It connects to MongoDB at MONGODB_URI when that is set, and otherwise starts modjo's
// embedded server (mongotest), so it runs with nothing installed but Go. It defines and
// registers a model, saves, queries, updates, validates and deletes instances.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"sort"
	"time"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/mongotest"
	"github.com/modjo-orm/modjo/queryset"
)

// Book is a model: it embeds model.Model (an ObjectID primary key stored as _id) and
// its fields are stored under their snake_case names, in the "book" collection.
type Book struct {
	model.Model
	Title   string    `modjo:"max_length=60"`
	Author  string    `modjo:"max_length=40"`
	ISBN    string    `modjo:"unique;verbose_name=ISBN"`
	Year    int       //
	Tags    []string  `modjo:"blank"`
	AddedAt time.Time `modjo:"auto_now_add"`
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		srv, err := mongotest.Start(mongotest.Options{})
		if err != nil {
			return err
		}
		defer srv.Close()
		uri = srv.URI()
		fmt.Println("using the embedded server at", uri)
	}

	// Define and register: every tag or type mistake would surface here.
	reg := model.NewRegistry()
	if err := reg.Register(Book{}); err != nil {
		return err
	}
	db, err := modjo.Open(ctx, modjo.Config{URI: uri, Database: "quickstart"}, reg)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if err := db.Database().Drop(ctx); err != nil { // start afresh on every run
		return err
	}
	if err := db.EnsureIndexes(ctx); err != nil { // the unique index on isbn
		return err
	}

	// Save: an instance without a key is inserted and gets one.
	books := []*Book{
		{Title: "The Go Programming Language", Author: "Donovan", ISBN: "978-0134190440", Year: 2015, Tags: []string{"go"}},
		{Title: "Designing Data-Intensive Applications", Author: "Kleppmann", ISBN: "978-1449373320", Year: 2017, Tags: []string{"databases"}},
		{Title: "MongoDB: The Definitive Guide", Author: "Bradshaw", ISBN: "978-1491954461", Year: 2019, Tags: []string{"databases", "mongodb"}},
	}
	for _, b := range books {
		if err := db.Save(ctx, b); err != nil {
			return err
		}
	}
	fmt.Printf("saved %d books\n", len(books))

	// Update: a saved instance is replaced, or only the named fields are written.
	ddia := books[1]
	ddia.Year = 2018
	if err := db.Save(ctx, ddia, modjo.UpdateFields("year")); err != nil {
		return err
	}

	// Query: QuerySets are lazy and immutable; All, Count, Get… run them.
	objects := queryset.Objects[Book](db) // Django's Book.objects
	recent := objects.Filter(expr.Q{"year__gte": 2016}).OrderBy("-year")
	found, err := recent.All(ctx)
	if err != nil {
		return err
	}
	fmt.Println("books since 2016, newest first:")
	for _, b := range found {
		fmt.Printf("  %d  %s (%s)\n", b.Year, b.Title, b.Author)
	}
	fmt.Println("  which runs", recent.MQL())
	n, err := objects.Filter(expr.Q{"title__icontains": "data"}).Exclude(expr.Q{"author": "Bradshaw"}).Count(ctx)
	if err != nil {
		return err
	}
	fmt.Println("books with \"data\" in the title, Bradshaw's excluded:", n)

	// Update through a QuerySet: one updateMany, computed on the server with F.
	n, err = objects.Filter(expr.Q{"year__lt": 2018}).Update(ctx, expr.Set{"year": expr.F("year").Add(1)})
	if err != nil {
		return err
	}
	years, err := queryset.ValuesFlat[int](ctx, objects.OrderBy("year"), "year")
	if err != nil {
		return err
	}
	fmt.Printf("books before 2018 moved a year later: %d; the years are now %v\n", n, years)

	// Refresh: reload one instance by primary key.
	again := &Book{Model: model.Model{ID: books[0].ID}}
	if err := db.Refresh(ctx, again); err != nil {
		return err
	}
	fmt.Printf("refreshed: %q, added at %s\n", again.Title, again.AddedAt.Format(time.DateOnly))

	// Validate: Save does not validate unless asked; FullClean collects every message,
	// including uniqueness checked against the database.
	bad := &Book{Title: "An Extraordinarily Long Title That Goes On And On Past The Limit", Author: "Someone", ISBN: "978-0134190440", Year: 2024}
	var ve *modjo.ValidationError
	if err := db.FullClean(ctx, bad); errors.As(err, &ve) {
		fmt.Println("not valid:")
		names := make([]string, 0, len(ve.Fields))
		for name := range ve.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			for _, msg := range ve.Fields[name] {
				fmt.Printf("  %s: %s\n", name, msg)
			}
		}
	} else if err != nil {
		return err
	}

	// The unique index refuses a duplicate even when nobody validated.
	dup := &Book{Title: "Copy", Author: "Someone", ISBN: "978-0134190440", Year: 2024}
	if err := db.Save(ctx, dup); errors.Is(err, modjo.ErrIntegrity) {
		fmt.Println("a duplicate isbn is refused with ErrIntegrity")
	} else if err != nil {
		return err
	}

	// Delete: one instance, then every match of a QuerySet.
	if err := db.Delete(ctx, books[0]); err != nil {
		return err
	}
	deleted, _, err := objects.Filter(expr.Q{"title__icontains": "mongodb"}).Delete(ctx)
	if err != nil {
		return err
	}
	left, err := objects.Count(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("deleted %q and %d more, %d book left\n", books[0].Title, deleted, left)
	return nil
}
