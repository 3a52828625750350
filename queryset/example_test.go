package queryset_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/mongotest"
	"github.com/modjo-orm/modjo/queryset"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Novel is the model of the examples.
type Novel struct {
	model.Model
	Title  string `modjo:"unique"`
	Author string
	Year   int
	Views  int
}

var (
	exampleOnce   sync.Once
	exampleClient *mongo.Client
	exampleN      int
	exampleMu     sync.Mutex
)

// exampleDB returns a handle on a fresh database of an embedded server (started once),
// holding four novels.
func exampleDB() *modjo.DB {
	exampleOnce.Do(func() {
		srv, err := mongotest.Start(mongotest.Options{})
		if err != nil {
			log.Fatal(err)
		}
		if exampleClient, err = mongo.Connect(options.Client().ApplyURI(srv.URI())); err != nil {
			log.Fatal(err)
		}
	})
	exampleMu.Lock()
	exampleN++
	name := fmt.Sprintf("example%d", exampleN)
	exampleMu.Unlock()
	reg := model.NewRegistry()
	reg.MustRegister(Novel{})
	db := modjo.New(exampleClient, name, reg)
	ctx := context.Background()
	if err := db.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}
	err := queryset.Objects[Novel](db).BulkCreate(ctx, []*Novel{
		{Title: "Dune", Author: "Herbert", Year: 1965, Views: 10},
		{Title: "Emma", Author: "Austen", Year: 1815, Views: 5},
		{Title: "Hyperion", Author: "Simmons", Year: 1989, Views: 7},
		{Title: "Persuasion", Author: "Austen", Year: 1817, Views: 2},
	})
	if err != nil {
		log.Fatal(err)
	}
	return db
}

func ExampleObjects() {
	ctx := context.Background()
	db := exampleDB()
	novels, err := queryset.Objects[Novel](db).OrderBy("year").All(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range novels {
		fmt.Println(n.Year, n.Title)
	}
	// Output:
	// 1815 Emma
	// 1817 Persuasion
	// 1965 Dune
	// 1989 Hyperion
}

func ExampleQuerySet_Filter() {
	ctx := context.Background()
	db := exampleDB()
	qs := queryset.Objects[Novel](db).
		Filter(expr.Q{"author": "Austen"}).
		Exclude(expr.Q{"year__gt": 1816})
	novels, err := qs.All(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range novels {
		fmt.Println(n.Title)
	}
	// Output:
	// Emma
}

func ExampleQuerySet_Filter_or() {
	ctx := context.Background()
	db := exampleDB()
	qs := queryset.Objects[Novel](db).
		Filter(expr.Or(expr.Q{"year__lt": 1816}, expr.Q{"title__istartswith": "hyp"})).
		OrderBy("-year")
	novels, err := qs.All(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range novels {
		fmt.Println(n.Title)
	}
	// Output:
	// Hyperion
	// Emma
}

func ExampleQuerySet_Iter() {
	ctx := context.Background()
	db := exampleDB()
	for n, err := range queryset.Objects[Novel](db).OrderBy("title").BatchSize(2).Iter(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(n.Title)
		if n.Title == "Emma" {
			break // the cursor is closed
		}
	}
	// Output:
	// Dune
	// Emma
}

func ExampleQuerySet_Get() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	n, err := novels.Get(ctx, expr.Q{"title": "Dune"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Author)

	_, err = novels.Get(ctx, expr.Q{"title": "Ulysses"})
	fmt.Println(errors.Is(err, modjo.ErrDoesNotExist))
	_, err = novels.Get(ctx, expr.Q{"author": "Austen"})
	fmt.Println(errors.Is(err, modjo.ErrMultipleObjectsReturned))
	// Output:
	// Herbert
	// true
	// true
}

func ExampleQuerySet_Slice() {
	ctx := context.Background()
	db := exampleDB()
	page, err := queryset.Objects[Novel](db).OrderBy("title").Slice(1, 3).All(ctx) // qs[1:3]
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range page {
		fmt.Println(n.Title)
	}
	// Output:
	// Emma
	// Hyperion
}

func ExampleQuerySet_Count() {
	ctx := context.Background()
	db := exampleDB()
	austen := queryset.Objects[Novel](db).Filter(expr.Q{"author": "Austen"})
	n, err := austen.Count(ctx)
	if err != nil {
		log.Fatal(err)
	}
	ok, err := austen.Filter(expr.Q{"year__gt": 1900}).Exists(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, ok)
	// Output:
	// 2 false
}

func ExampleQuerySet_Update() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	// One updateMany; the increment happens on the server, atomically.
	n, err := novels.Filter(expr.Q{"author": "Austen"}).Update(ctx, expr.Set{"views": expr.F("views").Add(1)})
	if err != nil {
		log.Fatal(err)
	}
	views, err := queryset.ValuesFlat[int](ctx, novels.Filter(expr.Q{"author": "Austen"}).OrderBy("year"), "views")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, views)
	// Output:
	// 2 [6 3]
}

func ExampleQuerySet_Delete() {
	ctx := context.Background()
	db := exampleDB()
	total, perModel, err := queryset.Objects[Novel](db).Filter(expr.Q{"year__lt": 1900}).Delete(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(total, perModel)
	// Output:
	// 2 map[Novel:2]
}

func ExampleQuerySet_GetOrCreate() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	n, created, err := novels.Filter(expr.Q{"title": "Middlemarch"}).GetOrCreate(ctx, expr.Set{"author": "Eliot", "year": 1871})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Title, n.Author, created)
	n, created, err = novels.Filter(expr.Q{"title": "Middlemarch"}).GetOrCreate(ctx, expr.Set{"author": "Someone else"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Title, n.Author, created)
	// Output:
	// Middlemarch Eliot true
	// Middlemarch Eliot false
}

func ExampleQuerySet_UpdateOrCreate() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	n, created, err := novels.Filter(expr.Q{"title": "Dune"}).UpdateOrCreate(ctx, expr.Set{"views": 100})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Title, n.Views, created)
	// Output:
	// Dune 100 false
}

func ExampleQuerySet_BulkCreate() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	more := []*Novel{{Title: "Dune"}, {Title: "Ubik", Author: "Dick"}} // Dune exists already
	err := novels.BulkCreate(ctx, more, queryset.IgnoreConflicts())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(more[0].ID.IsZero(), more[1].ID.IsZero())
	n, _ := novels.Count(ctx)
	fmt.Println(n)
	// Output:
	// true false
	// 5
}

func ExampleQuerySet_Values() {
	ctx := context.Background()
	db := exampleDB()
	rows, err := queryset.Objects[Novel](db).Filter(expr.Q{"year__gt": 1900}).OrderBy("year").Values(ctx, "title", "year")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r["title"], r["year"])
	}
	// Output:
	// Dune 1965
	// Hyperion 1989
}

func ExampleValuesFlat() {
	ctx := context.Background()
	db := exampleDB()
	authors, err := queryset.ValuesFlat[string](ctx, queryset.Objects[Novel](db).OrderBy("author").Distinct(), "author")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(authors)
	// Output:
	// [Austen Herbert Simmons]
}

func ExampleQuerySet_Only() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	n, err := novels.Only("title").Get(ctx, expr.Q{"title": "Emma"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Title, n.Year, model.StateOf(&n).Deferred["year"])
	n.Title = "Emma (1815)"
	if err := db.Save(ctx, &n); err != nil { // writes the loaded fields only
		log.Fatal(err)
	}
	again, _ := novels.Get(ctx, expr.Q{"pk": n.ID})
	fmt.Println(again.Title, again.Year)
	// Output:
	// Emma 0 true
	// Emma (1815) 1815
}

func ExampleQuerySet_First() {
	ctx := context.Background()
	db := exampleDB()
	novels := queryset.Objects[Novel](db)
	first, _ := novels.OrderBy("year").First(ctx)
	last, _ := novels.OrderBy("year").Last(ctx)
	latest, _ := novels.Latest(ctx, "views")
	fmt.Println(first.Title, last.Title, latest.Title)
	// Output:
	// Emma Hyperion Dune
}

func ExampleQuerySet_MQL() {
	db := exampleDB()
	austen := queryset.Objects[Novel](db).Filter(expr.Q{"author": "Austen", "year__lt": 1816})
	fmt.Println(austen.OrderBy("-year").Limit(5).MQL())
	// A random order needs pipeline stages: the compiler switches to aggregate.
	fmt.Println(austen.OrderBy("?").MQL())
	// Output:
	// {"find":"novel","filter":{"author":"Austen","year":{"$lt":1816}},"sort":{"year":-1},"limit":5}
	// {"aggregate":"novel","pipeline":[{"$match":{"author":"Austen","year":{"$lt":1816}}},{"$addFields":{"__modjo_r":{"$rand":{}}}},{"$sort":{"__modjo_r":1}},{"$unset":["__modjo_r"]}],"cursor":{}}
}
