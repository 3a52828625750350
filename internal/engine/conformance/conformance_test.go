package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestConformance runs every case file through the official driver against the server
// testenv chose: mongotest by default, real MongoDB with MONGODB_URI.
func TestConformance(t *testing.T) {
	db := testenv.Database(t)
	for _, file := range Files() {
		cases, err := Load(file)
		require.NoError(t, err)
		kind := strings.TrimSuffix(file, ".json")
		t.Run(kind, func(t *testing.T) {
			for i, c := range cases {
				t.Run(c.Name, func(t *testing.T) {
					coll := db.Collection(fmt.Sprintf("%s_%d", kind, i))
					runCase(t, db, coll, kind, c)
				})
			}
		})
	}
}

func runCase(t *testing.T, db *mongo.Database, coll *mongo.Collection, kind string, c Case) {
	ctx := context.Background()
	t.Cleanup(func() {
		_ = coll.Drop(ctx)
		for name := range c.Collections {
			_ = db.Collection(name).Drop(ctx)
		}
	})
	docs := c.Docs
	if isExpressionFile(kind) && len(docs) == 0 {
		docs = []bson.D{{{Key: "_id", Value: int32(1)}}}
	}
	insert(t, coll, docs)
	for name, extra := range c.Collections {
		insert(t, db.Collection(name), extra)
	}
	switch {
	case strings.HasPrefix(kind, "update"):
		runUpdate(t, db, coll, c)
	case isExpressionFile(kind):
		runExpression(t, db, coll, c)
	case c.Pipeline != nil:
		runAggregate(t, db, coll, c)
	default:
		runFind(t, db, coll, c)
	}
}

func isExpressionFile(kind string) bool {
	return strings.HasPrefix(kind, "expression") || strings.HasSuffix(kind, "_expression")
}

func insert(t *testing.T, coll *mongo.Collection, docs []bson.D) {
	if len(docs) == 0 {
		return
	}
	items := make([]any, len(docs))
	for i, d := range docs {
		items[i] = d
	}
	_, err := coll.InsertMany(context.Background(), items)
	require.NoError(t, err)
}

// command runs a command and decodes its reply with the engine's codec, which keeps
// every BSON type exactly (the driver would turn int32 into int and so on).
func command(db *mongo.Database, cmd bson.D) (bson.D, error) {
	raw, err := db.RunCommand(context.Background(), cmd).Raw()
	if err != nil {
		return nil, err
	}
	return value.Decode(raw)
}

// cursorDocs runs a cursor command and returns every document of the result.
func cursorDocs(t *testing.T, db *mongo.Database, cmd bson.D) ([]bson.D, error) {
	reply, err := command(db, cmd)
	if err != nil {
		return nil, err
	}
	var out []bson.D
	cur, _ := value.Get(reply, "cursor").(bson.D)
	batch, _ := value.Get(cur, "firstBatch").(bson.A)
	for {
		for _, d := range batch {
			out = append(out, d.(bson.D))
		}
		id, _ := value.Get(cur, "id").(int64)
		if id == 0 {
			return out, nil
		}
		ns, _ := value.Get(cur, "ns").(string)
		_, collName, _ := strings.Cut(ns, ".")
		reply, err = command(db, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: collName}})
		if err != nil {
			return nil, err
		}
		cur, _ = value.Get(reply, "cursor").(bson.D)
		batch, _ = value.Get(cur, "nextBatch").(bson.A)
	}
}

func expectError(t *testing.T, c Case, err error) bool {
	t.Helper()
	if c.Error == 0 {
		require.NoError(t, err)
		return false
	}
	require.Error(t, err, "expected error code %d", c.Error)
	require.Equal(t, c.Error, errorCode(err), "wrong error code: %v", err)
	return true
}

// errorCode extracts the server error code from a command or write error.
func errorCode(err error) int32 {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var we mongo.WriteException
	if errors.As(err, &we) && len(we.WriteErrors) > 0 {
		return int32(we.WriteErrors[0].Code)
	}
	return -1
}

func runFind(t *testing.T, db *mongo.Database, coll *mongo.Collection, c Case) {
	filter := c.Filter
	if filter == nil {
		filter = bson.D{}
	}
	sort := c.Sort
	if sort == nil {
		sort = bson.D{{Key: "_id", Value: int32(1)}}
	}
	cmd := bson.D{{Key: "find", Value: coll.Name()}, {Key: "filter", Value: filter}, {Key: "sort", Value: sort}}
	if c.Projection != nil {
		cmd = append(cmd, bson.E{Key: "projection", Value: c.Projection})
	}
	got, err := cursorDocs(t, db, cmd)
	if expectError(t, c, err) {
		return
	}
	if c.IDs != nil {
		ids := bson.A{}
		for _, d := range got {
			ids = append(ids, value.Get(d, "_id"))
		}
		requireSame(t, c.IDs, ids, "ids")
		return
	}
	requireDocs(t, c, got)
}

func runAggregate(t *testing.T, db *mongo.Database, coll *mongo.Collection, c Case) {
	got, err := cursorDocs(t, db, bson.D{{Key: "aggregate", Value: coll.Name()}, {Key: "pipeline", Value: c.Pipeline}, {Key: "cursor", Value: bson.D{}}})
	if expectError(t, c, err) {
		return
	}
	requireDocs(t, c, got)
}

func runExpression(t *testing.T, db *mongo.Database, coll *mongo.Collection, c Case) {
	pipeline := bson.A{
		bson.D{{Key: "$limit", Value: int32(1)}},
		bson.D{{Key: "$replaceWith", Value: bson.D{{Key: "r", Value: c.Expr}}}},
	}
	got, err := cursorDocs(t, db, bson.D{{Key: "aggregate", Value: coll.Name()}, {Key: "pipeline", Value: pipeline}, {Key: "cursor", Value: bson.D{}}})
	if expectError(t, c, err) {
		return
	}
	require.Len(t, got, 1)
	r, present := value.Lookup(got[0], "r")
	if c.Missing {
		require.False(t, present, "expected missing, got %v", r)
		return
	}
	require.True(t, present, "expression evaluated to missing")
	requireSame(t, c.Expect, r, "value")
}

func runUpdate(t *testing.T, db *mongo.Database, coll *mongo.Collection, c Case) {
	stmt := bson.D{{Key: "q", Value: c.Filter}, {Key: "u", Value: c.Update}, {Key: "multi", Value: c.Multi}, {Key: "upsert", Value: c.Upsert}}
	if stmt[0].Value == nil {
		stmt[0].Value = bson.D{}
	}
	if c.ArrayFilters != nil {
		filters := bson.A{}
		for _, f := range c.ArrayFilters {
			filters = append(filters, f)
		}
		stmt = append(stmt, bson.E{Key: "arrayFilters", Value: filters})
	}
	reply, err := command(db, bson.D{{Key: "update", Value: coll.Name()}, {Key: "updates", Value: bson.A{stmt}}})
	if err == nil {
		if we, ok := value.Get(reply, "writeErrors").(bson.A); ok && len(we) > 0 {
			d := we[0].(bson.D)
			code, _ := value.Get(d, "code").(int32)
			msg, _ := value.Get(d, "errmsg").(string)
			err = mongo.CommandError{Code: code, Message: msg}
		}
	}
	if expectError(t, c, err) {
		return
	}
	if c.Matched != nil {
		n, _ := value.ToInt64(value.Get(reply, "n"))
		upserted, _ := value.Get(reply, "upserted").(bson.A)
		require.Equal(t, int64(*c.Matched), n-int64(len(upserted)), "matched")
	}
	if c.Modified != nil {
		n, _ := value.ToInt64(value.Get(reply, "nModified"))
		require.Equal(t, int64(*c.Modified), n, "modified")
	}
	if c.Upserted {
		_, ok := value.Get(reply, "upserted").(bson.A)
		require.True(t, ok, "expected an upsert")
	}
	got, err := cursorDocs(t, db, bson.D{{Key: "find", Value: coll.Name()}, {Key: "sort", Value: bson.D{{Key: "_id", Value: int32(1)}}}})
	require.NoError(t, err)
	requireDocs(t, c, got)
}

func requireDocs(t *testing.T, c Case, got []bson.D) {
	t.Helper()
	want, _ := c.Expect.(bson.A)
	gotA := make(bson.A, len(got))
	for i, d := range got {
		gotA[i] = d
	}
	if c.Unordered {
		require.Len(t, gotA, len(want), "documents: got %v", gotA)
		used := make([]bool, len(gotA))
	outer:
		for _, w := range want {
			for i, g := range gotA {
				if !used[i] && Same(w, g) {
					used[i] = true
					continue outer
				}
			}
			t.Fatalf("expected document %v not found in %v", w, gotA)
		}
		return
	}
	requireSame(t, want, gotA, "documents")
}

func requireSame(t *testing.T, want, got any, what string) {
	t.Helper()
	if !Same(want, got) {
		t.Fatalf("%s differ\nwant: %s\ngot:  %s", what, show(want), show(got))
	}
}

func show(v any) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
