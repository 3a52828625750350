package mongotest_test

import (
	"context"
	"fmt"

	"github.com/modjo-orm/modjo/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func Example() {
	srv, err := mongotest.Start(mongotest.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
	if err != nil {
		panic(err)
	}
	defer client.Disconnect(ctx)

	coll := client.Database("shop").Collection("items")
	_, err = coll.InsertMany(ctx, []any{
		bson.D{{Key: "name", Value: "pen"}, {Key: "price", Value: 2}},
		bson.D{{Key: "name", Value: "book"}, {Key: "price", Value: 12}},
	})
	if err != nil {
		panic(err)
	}
	var item struct{ Name string }
	err = coll.FindOne(ctx, bson.D{{Key: "price", Value: bson.D{{Key: "$gt", Value: 5}}}}).Decode(&item)
	if err != nil {
		panic(err)
	}
	fmt.Println(item.Name)
	// Output: book
}
