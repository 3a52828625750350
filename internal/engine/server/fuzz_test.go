package server

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzCommand runs arbitrary command documents against a server holding a little data.
// Any reply is fine except InternalError, which is what a panic or a bug becomes.
func FuzzCommand(f *testing.F) {
	seeds := []bson.D{
		{{Key: "find", Value: "c"}, {Key: "filter", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: int32(1)}}}}}, {Key: "projection", Value: bson.D{{Key: "a.$", Value: int32(1)}}}},
		{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "a", Value: int32(1)}}}, {Key: "u", Value: bson.D{{Key: "$push", Value: bson.D{{Key: "a", Value: int32(2)}}}}}, {Key: "upsert", Value: true}}}}},
		{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: bson.D{}}, {Key: "u", Value: bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$add", Value: bson.A{"$a", int32(1)}}}}}}}}}}}}},
		{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$a"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: int32(1)}}}}}}}}, {Key: "cursor", Value: bson.D{}}},
		{{Key: "findAndModify", Value: "c"}, {Key: "query", Value: bson.D{}}, {Key: "sort", Value: bson.D{{Key: "a", Value: int32(-1)}}}, {Key: "update", Value: bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: int32(1)}}}}}, {Key: "new", Value: true}},
		{{Key: "createIndexes", Value: "c"}, {Key: "indexes", Value: bson.A{bson.D{{Key: "key", Value: bson.D{{Key: "a", Value: int32(1)}}}, {Key: "name", Value: "a_1"}, {Key: "unique", Value: true}}}}},
		{{Key: "delete", Value: "c"}, {Key: "deletes", Value: bson.A{bson.D{{Key: "q", Value: bson.D{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{int32(1), "x"}}}}}}, {Key: "limit", Value: int32(0)}}}}},
		{{Key: "distinct", Value: "c"}, {Key: "key", Value: "a.b"}},
	}
	for _, s := range seeds {
		f.Add(value.MustEncode(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := value.Decode(b)
		if err != nil || len(body) == 0 {
			return
		}
		s := New(Config{ReplicaSet: "rs0"})
		c, _, _ := s.store.Ensure("db", "c")
		docs := []bson.D{
			{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{int32(1), bson.D{{Key: "b", Value: "x"}}}}},
			{{Key: "_id", Value: int32(2)}, {Key: "a", Value: int32(3)}, {Key: "n", Value: 1.5}},
		}
		for _, d := range docs {
			_ = c.Write(func(tx *txAlias) error {
				d, raw, _ := prepare(d)
				_, err := tx.Insert(d, raw, writeOptions{})
				return err
			})
		}
		body = append(body, bson.E{Key: "$db", Value: "db"})
		reply := s.run(&request{conn: &conn{}, body: body})
		if code, _ := value.Get(reply, "code").(int32); code == mongoerr.InternalError {
			t.Fatalf("internal error for %s: %v", value.Format(body), value.Get(reply, "errmsg"))
		}
	})
}
