// Quickstart: run it with `go run ./examples/quickstart`.
//
// It connects to MongoDB at MONGODB_URI when that is set, and otherwise starts modjo's
// embedded server (mongotest), so it runs with nothing installed but Go. It inserts a few
// documents, queries them with operators, updates, indexes and deletes.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/modjo-orm/modjo/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Book is stored in the "books" collection.
type Book struct {
	ID     bson.ObjectID `bson:"_id,omitempty"`
	Title  string        `bson:"title"`
	Author string        `bson:"author"`
	Year   int           `bson:"year"`
	Tags   []string      `bson:"tags"`
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
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer client.Disconnect(ctx)

	books := client.Database("quickstart").Collection("books")
	if err := books.Drop(ctx); err != nil {
		return err
	}
	if _, err := books.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "title", Value: 1}},
		Options: options.Index().SetUnique(true),
	}); err != nil {
		return err
	}

	_, err = books.InsertMany(ctx, []Book{
		{Title: "The Go Programming Language", Author: "Donovan", Year: 2015, Tags: []string{"go"}},
		{Title: "Designing Data-Intensive Applications", Author: "Kleppmann", Year: 2017, Tags: []string{"databases"}},
		{Title: "MongoDB: The Definitive Guide", Author: "Bradshaw", Year: 2019, Tags: []string{"databases", "mongodb"}},
	})
	if err != nil {
		return err
	}

	cur, err := books.Find(ctx,
		bson.D{{Key: "year", Value: bson.D{{Key: "$gte", Value: 2016}}}, {Key: "tags", Value: "databases"}},
		options.Find().SetSort(bson.D{{Key: "year", Value: -1}}))
	if err != nil {
		return err
	}
	var recent []Book
	if err := cur.All(ctx, &recent); err != nil {
		return err
	}
	fmt.Println("database books since 2016:")
	for _, b := range recent {
		fmt.Printf("  %d  %s (%s)\n", b.Year, b.Title, b.Author)
	}

	res, err := books.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$inc", Value: bson.D{{Key: "year", Value: 1}}}})
	if err != nil {
		return err
	}
	fmt.Println("updated:", res.ModifiedCount)

	_, err = books.InsertOne(ctx, Book{Title: "The Go Programming Language"})
	var we mongo.WriteException
	if errors.As(err, &we) && we.HasErrorCode(11000) {
		fmt.Println("duplicate title rejected by the unique index")
	}

	del, err := books.DeleteOne(ctx, bson.D{{Key: "author", Value: "Donovan"}})
	if err != nil {
		return err
	}
	n, err := books.CountDocuments(ctx, bson.D{})
	if err != nil {
		return err
	}
	fmt.Printf("deleted %d, %d books left\n", del.DeletedCount, n)
	return nil
}
