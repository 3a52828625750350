package agg

import (
	"hash/maphash"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Helpers shared by the join stages: reading the values at a path the way $lookup and
// $graphLookup join on them, writing a field the way they write their output, and
// parsing the arguments their specs share.

// visitPath calls fn with each value at path in doc, as mongod's $lookup and
// $graphLookup read localField and connectFromField: the first component is a field name;
// after it, consecutive numeric components (strictly written: "0", "12", not "01") index
// arrays; a remaining path continues into documents, and into the documents of an array
// (not into nested arrays); an array found at the end yields its elements one by one.
func visitPath(doc bson.D, path []string, fn func(any)) {
	v, ok := value.Lookup(doc, path[0])
	if !ok {
		return
	}
	rest := path[1:]
	for len(rest) > 0 {
		arr, isArr := v.(bson.A)
		if !isArr {
			break
		}
		i, isIndex := strictIndex(rest[0])
		if !isIndex {
			break
		}
		if i >= len(arr) {
			return
		}
		v, rest = arr[i], rest[1:]
	}
	if len(rest) == 0 {
		if arr, ok := v.(bson.A); ok {
			for _, e := range arr {
				fn(e)
			}
			return
		}
		fn(v)
		return
	}
	switch x := v.(type) {
	case bson.D:
		visitPath(x, rest, fn)
	case bson.A:
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				visitPath(d, rest, fn)
			}
		}
	}
}

// strictIndex parses a path component as an array position: decimal digits without a
// leading zero (except "0" itself).
func strictIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// setNested returns a copy of doc with path set to v, as mongod's document builder sets a
// nested field: an existing field keeps its position, a new one goes last, and whatever
// is not a document on the way (scalars, arrays) is replaced by one.
func setNested(doc bson.D, path []string, v any) bson.D {
	out := make(bson.D, len(doc), len(doc)+1)
	copy(out, doc)
	for i := range out {
		if out[i].Key != path[0] {
			continue
		}
		if len(path) == 1 {
			out[i].Value = v
		} else {
			child, _ := out[i].Value.(bson.D)
			out[i].Value = setNested(child, path[1:], v)
		}
		return out
	}
	if len(path) == 1 {
		return append(out, bson.E{Key: path[0], Value: v})
	}
	return append(out, bson.E{Key: path[0], Value: setNested(nil, path[1:], v)})
}

// foreignCollection returns the collection a join stage reads, or nil when it does not
// exist (mongod then joins with nothing).
func foreignCollection(c *Context, name string) *storage.Collection {
	if name == "" || c.Store == nil {
		return nil
	}
	return c.Store.Collection(c.DB, name)
}

// subPipelineSpec checks a sub-pipeline argument ($lookup's pipeline): an array of
// documents.
func subPipelineSpec(v any) (bson.A, error) {
	arr, ok := v.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.TypeMismatch, "'pipeline' option must be specified as an array")
	}
	for _, st := range arr {
		if _, ok := st.(bson.D); !ok {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "Each element of the 'pipeline' array must be an object")
		}
	}
	return arr, nil
}

// startsWithDocuments reports whether a raw pipeline opens with $documents.
func startsWithDocuments(pipeline bson.A) bool {
	if len(pipeline) == 0 {
		return false
	}
	d, ok := pipeline[0].(bson.D)
	if !ok {
		return false
	}
	_, has := value.Lookup(d, "$documents")
	return has
}

// stagePath checks a path a stage names without "$" (as, localField, …) and splits it.
func stagePath(path string) ([]string, error) {
	return value.SplitFieldPath(path)
}

// hashSeed seeds the value hashes of the join stages' sets.
var hashSeed = maphash.MakeSeed()

// joinValueSet is a set of values under value.Compare equality (1, 1.0 and NumberLong(1) are
// one value), kept in insertion order.
type joinValueSet struct {
	buckets map[uint64][]int
	list    []any
}

func newJoinValueSet() *joinValueSet { return &joinValueSet{buckets: map[uint64][]int{}} }

// add inserts v and reports whether it was new.
func (s *joinValueSet) add(v any) bool {
	h := hashValue(hashSeed, v)
	for _, i := range s.buckets[h] {
		if value.Compare(s.list[i], v) == 0 {
			return false
		}
	}
	s.buckets[h] = append(s.buckets[h], len(s.list))
	s.list = append(s.list, v)
	return true
}
