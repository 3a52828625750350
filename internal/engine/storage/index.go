package storage

import (
	"fmt"
	"math"
	"strings"

	"github.com/google/btree"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// IndexSpec describes an index as createIndexes receives it and listIndexes reports it.
type IndexSpec struct {
	Name   string
	Key    bson.D // field -> 1 or -1
	Unique bool
	Sparse bool
	// PartialFilter restricts the index to documents that match it.
	PartialFilter bson.D
	// ExpireAfterSeconds makes a TTL index when set.
	ExpireAfterSeconds *int64
	Hidden             bool
	// Extra keeps other options as given (e.g. "v", "background"), so listIndexes reports them.
	Extra bson.D
}

// Document returns the spec as listIndexes reports it.
func (s *IndexSpec) Document() bson.D {
	d := bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: s.Key}, {Key: "name", Value: s.Name}}
	if s.Unique {
		d = append(d, bson.E{Key: "unique", Value: true})
	}
	if s.Sparse {
		d = append(d, bson.E{Key: "sparse", Value: true})
	}
	if s.PartialFilter != nil {
		d = append(d, bson.E{Key: "partialFilterExpression", Value: s.PartialFilter})
	}
	if s.ExpireAfterSeconds != nil {
		d = append(d, bson.E{Key: "expireAfterSeconds", Value: *s.ExpireAfterSeconds})
	}
	if s.Hidden {
		d = append(d, bson.E{Key: "hidden", Value: true})
	}
	return append(d, s.Extra...)
}

// DefaultIndexName returns MongoDB's default name for a key pattern: "a_1_b_-1".
func DefaultIndexName(key bson.D) string {
	var sb strings.Builder
	for i, e := range key {
		if i > 0 {
			sb.WriteByte('_')
		}
		sb.WriteString(e.Key)
		sb.WriteByte('_')
		switch v := e.Value.(type) {
		case string:
			sb.WriteString(v)
		default:
			f, _ := value.ToFloat64(v)
			if f == math.Trunc(f) {
				fmt.Fprintf(&sb, "%d", int64(f))
			} else {
				fmt.Fprintf(&sb, "%v", f)
			}
		}
	}
	return sb.String()
}

type indexField struct {
	path  []string
	desc  bool
	whole string
}

// entry is one index key: the values of the indexed fields for one document.
type entry struct {
	key []any
	rid uint64
}

// Index is a B-tree of keys to record ids, ordered by BSON order with each field's direction.
type Index struct {
	Spec     IndexSpec
	fields   []indexField
	partial  *match.Matcher
	tree     *btree.BTreeG[entry]
	multikey bool
}

func newIndex(spec IndexSpec) (*Index, error) {
	ix := &Index{Spec: spec}
	for _, e := range spec.Key {
		dir, err := keyDirection(e.Key, e.Value)
		if err != nil {
			return nil, err
		}
		ix.fields = append(ix.fields, indexField{path: strings.Split(e.Key, "."), desc: dir < 0, whole: e.Key})
	}
	if spec.PartialFilter != nil {
		m, err := match.Compile(spec.PartialFilter, nil)
		if err != nil {
			return nil, err
		}
		ix.partial = m
	}
	fields := ix.fields
	ix.tree = btree.NewG(32, func(a, b entry) bool {
		if c := compareKeys(a.key, b.key, fields); c != 0 {
			return c < 0
		}
		return a.rid < b.rid
	})
	return ix, nil
}

// keyDirection validates one key-pattern value and returns +1 or -1.
func keyDirection(field string, v any) (int, error) {
	if field == "" {
		return 0, mongoerr.Newf(mongoerr.CannotCreateIndex, "Index key contains an illegal field name: field name is empty")
	}
	if strings.HasPrefix(field, "$") && field != "$**" {
		return 0, mongoerr.Newf(mongoerr.CannotCreateIndex, "Index key contains an illegal field name: field name starts with '$'.")
	}
	switch x := v.(type) {
	case string:
		switch x {
		case "text", "2dsphere", "2d", "hashed", "geoHaystack", "columnstore":
			return 0, mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not support %q indexes (field %q)", x, field)
		}
		return 0, mongoerr.Newf(mongoerr.CannotCreateIndex, "Unknown index plugin '%s'", x)
	default:
		if field == "$**" || strings.HasSuffix(field, ".$**") {
			return 0, mongoerr.Newf(mongoerr.NotImplemented, "mongotest does not support wildcard indexes")
		}
		f, ok := value.ToFloat64(v)
		if !ok || math.IsNaN(f) {
			return 0, mongoerr.Newf(mongoerr.CannotCreateIndex, "Values in v:2 index key pattern cannot be of type %s. Only numbers > 0, numbers < 0, and strings are allowed.", value.TypeName(v))
		}
		if f == 0 {
			return 0, mongoerr.Newf(mongoerr.CannotCreateIndex, "Values in the index key pattern can't be 0.")
		}
		if f < 0 {
			return -1, nil
		}
		return 1, nil
	}
}

func compareKeys(a, b []any, fields []indexField) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		c := value.Compare(a[i], b[i])
		if c != 0 {
			if i < len(fields) && fields[i].desc {
				return -c
			}
			return c
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// keyer collects the keys of one document.
type keyer struct {
	vals    []any
	present bool // some indexed field exists (decides sparse membership)
	isArray bool // an array was traversed (the document makes the index multikey)
}

// valuesAt appends the index keys a path yields: the value there, each element of an array
// there (undefined for an empty array), through arrays of documents along the way; a
// missing value yields null.
func (k *keyer) valuesAt(v any, path []string) {
	if len(path) == 0 {
		if arr, ok := v.(bson.A); ok {
			k.isArray = true
			k.present = true
			if len(arr) == 0 {
				k.add(bson.Undefined{})
			}
			for _, e := range arr {
				k.add(e)
			}
			return
		}
		k.present = true
		k.add(v)
		return
	}
	switch x := v.(type) {
	case bson.D:
		child, ok := value.Lookup(x, path[0])
		if !ok {
			k.add(nil)
			return
		}
		k.valuesAt(child, path[1:])
	case bson.A:
		k.isArray = true
		before := len(k.vals)
		if idx, ok := arrayIndex(path[0]); ok && idx < len(x) {
			k.valuesAt(x[idx], path[1:])
		}
		for _, e := range x {
			if d, ok := e.(bson.D); ok {
				k.valuesAt(d, path)
			}
		}
		if len(k.vals) == before {
			k.add(nil)
		}
	default:
		k.add(nil)
	}
}

func (k *keyer) add(v any) {
	for _, have := range k.vals {
		if value.Compare(have, v) == 0 {
			return
		}
	}
	k.vals = append(k.vals, v)
}

func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	return n, true
}

// keys returns the index keys of doc, or nil when the document is not in the index
// (sparse without the fields, or outside the partial filter).
func (ix *Index) keys(doc bson.D) ([][]any, error) {
	if ix.partial != nil {
		ok, err := ix.partial.Match(doc, nil)
		if err != nil || !ok {
			return nil, err
		}
	}
	perField := make([][]any, len(ix.fields))
	present := false
	arrays := 0
	var arrayFields []string
	for i, f := range ix.fields {
		var k keyer
		k.valuesAt(doc, f.path)
		perField[i] = k.vals
		present = present || k.present
		if k.isArray {
			arrays++
			arrayFields = append(arrayFields, f.whole)
		}
	}
	if ix.Spec.Sparse && !present {
		return nil, nil
	}
	if arrays > 1 {
		return nil, mongoerr.Newf(171, "cannot index parallel arrays [%s] [%s]", arrayFields[1], arrayFields[0])
	}
	if arrays > 0 {
		ix.multikey = true
	}
	// Cartesian product; at most one field has several values.
	out := [][]any{make([]any, 0, len(ix.fields))}
	for _, vals := range perField {
		next := make([][]any, 0, len(out)*len(vals))
		for _, prefix := range out {
			for _, v := range vals {
				key := append(append(make([]any, 0, len(ix.fields)), prefix...), v)
				next = append(next, key)
			}
		}
		out = next
	}
	return out, nil
}

// conflict returns the rid of another document holding key in a unique index.
func (ix *Index) conflict(key []any, self uint64) (uint64, bool) {
	var found uint64
	ok := false
	ix.tree.AscendGreaterOrEqual(entry{key: key}, func(e entry) bool {
		if compareKeys(e.key, key, ix.fields) != 0 || len(e.key) != len(key) {
			return false
		}
		if e.rid != self {
			found, ok = e.rid, true
			return false
		}
		return true
	})
	return found, ok
}

func (ix *Index) insertKeys(keys [][]any, rid uint64) {
	for _, k := range keys {
		ix.tree.ReplaceOrInsert(entry{key: k, rid: rid})
	}
}

func (ix *Index) deleteKeys(keys [][]any, rid uint64) {
	for _, k := range keys {
		ix.tree.Delete(entry{key: k, rid: rid})
	}
}

// duplicateKeyError builds MongoDB's E11000 error with keyPattern and keyValue.
func (ix *Index) duplicateKeyError(ns string, key []any) *mongoerr.Error {
	keyValue := make(bson.D, len(ix.fields))
	pattern := make(bson.D, len(ix.fields))
	shown := make([]string, len(ix.fields))
	for i, f := range ix.fields {
		keyValue[i] = bson.E{Key: f.whole, Value: key[i]}
		pattern[i] = ix.Spec.Key[i]
		shown[i] = value.FormatElem(f.whole, key[i])
	}
	msg := fmt.Sprintf("E11000 duplicate key error collection: %s index: %s dup key: { %s }", ns, ix.Spec.Name, strings.Join(shown, ", "))
	return &mongoerr.Error{
		Code:    mongoerr.DuplicateKey,
		Message: msg,
		Extra:   bson.D{{Key: "keyPattern", Value: pattern}, {Key: "keyValue", Value: keyValue}},
	}
}
