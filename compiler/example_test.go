package compiler

import (
	"fmt"

	"github.com/modjo-orm/modjo/expr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// A typical QuerySet compiles to a find command; year becomes a range on the date.
func ExampleSelect() {
	m, _ := testRegistry.Meta(Book{})
	cmd, err := Select(&Query{
		Meta:  m,
		Where: expr.And(expr.Q{"title__icontains": "go"}, expr.Not(expr.Q{"author": "Anon"}), expr.Q{"published__year__gte": 2020}),
		Order: []any{expr.ParseOrdering("-published")},
		Limit: 20,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(cmd.Kind)
	fmt.Println(cmd)
	// Output:
	// find
	// {"find":"books","filter":{"title":{"$regex":"go","$options":"i"},"$nor":[{"writer":"Anon"}],"published":{"$gte":{"$date":"2020-01-01T00:00:00Z"}}},"sort":{"published":-1},"limit":20}
}

// Field-to-field comparisons use $expr, with null guards: SQL never finds NULL greater
// than anything.
func ExampleFilterDoc() {
	m, _ := testRegistry.Meta(Book{})
	d, _ := FilterDoc(m, expr.Q{"pages__gt": expr.F("chapters").Mul(10)})
	b, _ := bson.MarshalExtJSON(d, false, false)
	fmt.Println(string(b))
	// Output:
	// {"pages":{"$ne":null},"chapters":{"$ne":null},"$expr":{"$gt":["$pages",{"$multiply":["$chapters",{"$literal":10}]}]}}
}

// An update with an expression is a pipeline, atomic on the server.
func ExampleUpdateDoc() {
	m, _ := testRegistry.Meta(Book{})
	u, _ := UpdateDoc(m, expr.Set{"views": expr.F("views").Add(1)})
	b, _ := bson.MarshalExtJSON(bson.D{{Key: "u", Value: u}}, false, false)
	fmt.Println(string(b))
	// Output:
	// {"u":[{"$set":{"views":{"$toLong":{"$add":["$views",{"$literal":1}]}}}}]}
}
