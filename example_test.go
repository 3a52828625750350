package modjo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"time"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Article is the model of the examples.
type Article struct {
	model.Model
	Title     string `modjo:"max_length=40"`
	Slug      string `modjo:"unique"`
	Views     int
	CreatedAt time.Time `modjo:"auto_now_add"`
}

// Counter logs its hooks.
type Counter struct {
	model.Model
	Name string
}

func (c *Counter) BeforeSave(context.Context) error {
	fmt.Println("before save", c.Name)
	return nil
}

func (c *Counter) AfterSave(context.Context) error {
	fmt.Println("after save", c.Name)
	return nil
}

// openExample starts an embedded server and opens a DB on it with a fresh registry.
func openExample(models ...any) (db *modjo.DB, closeAll func()) {
	srv, err := mongotest.Start(mongotest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	reg := model.NewRegistry()
	reg.MustRegister(models...)
	db, err = modjo.Open(context.Background(), modjo.Config{URI: srv.URI(), Database: "example"}, reg)
	if err != nil {
		log.Fatal(err)
	}
	return db, func() {
		_ = db.Close(context.Background())
		_ = srv.Close()
	}
}

func ExampleOpen() {
	srv, err := mongotest.Start(mongotest.Options{}) // or a real MongoDB
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	reg := model.NewRegistry()
	reg.MustRegister(Article{})

	ctx := context.Background()
	db, err := modjo.Open(ctx, modjo.Config{URI: srv.URI(), Database: "blog"}, reg)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close(ctx)

	a := &Article{Title: "Hello", Slug: "hello"}
	if err := db.Save(ctx, a); err != nil {
		log.Fatal(err)
	}
	fmt.Println("database:", db.Database().Name())
	fmt.Println("has a key:", !a.ID.IsZero())
	// Output:
	// database: blog
	// has a key: true
}

func ExampleDB_Save() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	a := &Article{Title: "First post", Slug: "first"}
	if err := db.Save(ctx, a); err != nil { // insert: a.ID is assigned
		log.Fatal(err)
	}
	a.Views = 10
	if err := db.Save(ctx, a); err != nil { // full replace by _id
		log.Fatal(err)
	}
	a.Title, a.Views = "Renamed", 11
	if err := db.Save(ctx, a, modjo.UpdateFields("views")); err != nil { // $set of views only
		log.Fatal(err)
	}

	stored := &Article{Model: model.Model{ID: a.ID}}
	if err := db.Refresh(ctx, stored); err != nil {
		log.Fatal(err)
	}
	fmt.Println(stored.Title, stored.Views)
	// Output: First post 11
}

func ExampleDB_Save_hooks() {
	db, closeAll := openExample(Counter{})
	defer closeAll()
	ctx := context.Background()

	disconnect := db.Registry().Connect(model.PostSave, func(_ context.Context, e *model.Event) error {
		fmt.Println("post_save signal, created:", e.Created)
		return nil
	}, Counter{})
	defer disconnect()

	if err := db.Save(ctx, &Counter{Name: "visits"}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// before save visits
	// post_save signal, created: true
	// after save visits
}

func ExampleDB_Create() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	a := &Article{Title: "Once", Slug: "once"}
	if err := db.Create(ctx, a); err != nil {
		log.Fatal(err)
	}
	err := db.Create(ctx, a) // the same key again
	fmt.Println(errors.Is(err, modjo.ErrIntegrity))
	// Output: true
}

func ExampleDB_FullClean() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	if err := db.Save(ctx, &Article{Title: "Taken", Slug: "taken"}); err != nil {
		log.Fatal(err)
	}
	err := db.FullClean(ctx, &Article{Title: "A title much longer than forty characters, sadly", Slug: "taken"})
	var ve *modjo.ValidationError
	if errors.As(err, &ve) {
		names := make([]string, 0, len(ve.Fields))
		for name := range ve.Fields {
			names = append(names, name)
		}
		sort.Strings(names)
		fmt.Println("invalid fields:", names)
		fmt.Println(ve.Fields["slug"][0])
	}
	// Output:
	// invalid fields: [slug title]
	// Article with this Slug already exists.
}

func ExampleValidate() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	a := &Article{Title: "A title much longer than forty characters, sadly", Slug: "long"}
	err := db.Save(ctx, a, modjo.Validate())
	var ve *modjo.ValidationError
	fmt.Println(errors.As(err, &ve), a.ID.IsZero())
	// Output: true true
}

func ExampleDB_Delete() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	a := &Article{Title: "Short-lived", Slug: "short"}
	if err := db.Save(ctx, a); err != nil {
		log.Fatal(err)
	}
	if err := db.Delete(ctx, a); err != nil {
		log.Fatal(err)
	}
	err := db.Refresh(ctx, a)
	fmt.Println(errors.Is(err, modjo.ErrDoesNotExist))
	// Output: true
}

func ExampleDB_Refresh() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	a := &Article{Title: "Counted", Slug: "counted"}
	if err := db.Save(ctx, a); err != nil {
		log.Fatal(err)
	}
	// Another program increments the stored counter.
	meta, _ := db.Registry().Meta(a)
	_, err := db.Collection(meta).UpdateOne(ctx, bson.D{{Key: "_id", Value: a.ID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "views", Value: 5}}}})
	if err != nil {
		log.Fatal(err)
	}
	if err := db.Refresh(ctx, a); err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Views)
	// Output: 5
}

func ExampleDB_EnsureIndexes() {
	db, closeAll := openExample(Article{})
	defer closeAll()
	ctx := context.Background()

	if err := db.EnsureIndexes(ctx); err != nil { // the unique index on slug
		log.Fatal(err)
	}
	if err := db.Save(ctx, &Article{Title: "One", Slug: "same"}); err != nil {
		log.Fatal(err)
	}
	err := db.Save(ctx, &Article{Title: "Two", Slug: "same"})
	fmt.Println(errors.Is(err, modjo.ErrIntegrity))
	// Output: true
}
