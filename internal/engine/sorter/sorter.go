// Package sorter compiles MongoDB sort specifications ({a: 1, "b.c": -1}) and orders
// documents by them, as the find command's sort and the $sort stage do.
//
// A document's sort key is chosen the way mongod chooses it: the sort pattern is treated
// as the key pattern of an index, the document's index keys are generated (arrays along a
// path are expanded one level, an empty array gives undefined, a missing field gives null),
// and the smallest of those keys under the sort order is the document's key. So an array
// sorts by its smallest element ascending and by its largest descending, [] sorts before
// null, and two sort paths through the same array use values from the same element.
// Paths through two different arrays ("parallel arrays") are an error, as in mongod.
//
// Keys are extracted once per document (Key), then compared (CompareKeys); SortDocs and
// TopK do this for a slice.
package sorter

import (
	"math"
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Field is one component of a sort specification.
type Field struct {
	// Path is the dotted field path.
	Path string
	// Desc is true for a descending (-1) component.
	Desc bool
}

// Sorter is a compiled sort specification. It is immutable and safe for concurrent use.
type Sorter struct {
	fields []field
}

type field struct {
	path  string
	parts []string
	desc  bool
}

// validMetaSorts are the $meta names mongod accepts in a sort; none is supported here yet.
var validMetaSorts = map[string]bool{
	"textScore": true, "randVal": true, "geoNearDistance": true,
	"searchScore": true, "vectorSearchScore": true, "score": true,
}

// Compile parses a sort specification. Each value must be a number that truncates to 1 or
// -1 (error 15975 otherwise; a non-number is error 15974); {$meta: ...} components are
// recognised but not supported (NotImplemented). An empty specification is error 15976, as
// for the $sort stage: a find command with an empty sort simply has no sort and should not
// call Compile. "$natural" is not a field path (error 16410); find's natural-order sort
// must be handled by the caller.
func Compile(spec bson.D) (*Sorter, error) {
	if len(spec) == 0 {
		return nil, mongoerr.Newf(15976, "$sort stage must have at least one sort key")
	}
	s := &Sorter{fields: make([]field, 0, len(spec))}
	for _, e := range spec {
		if meta, ok := e.Value.(bson.D); ok {
			if err := checkMeta(meta); err != nil {
				return nil, err
			}
			continue
		}
		dir, ok := direction(e.Value)
		if !ok {
			return nil, mongoerr.Newf(15974, "Illegal key in $sort specification: %s: %s", e.Key, value.Format(e.Value))
		}
		if dir != 1 && dir != -1 {
			return nil, mongoerr.Newf(15975, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
		parts, err := value.SplitFieldPath(e.Key)
		if err != nil {
			return nil, err
		}
		for _, f := range s.fields {
			if f.path == e.Key {
				return nil, mongoerr.Newf(7472500, "$sort key must not contain duplicate keys (duplicate: '%s')", e.Key)
			}
		}
		s.fields = append(s.fields, field{path: e.Key, parts: parts, desc: dir < 0})
	}
	return s, nil
}

// checkMeta validates a {$meta: name} sort component the way mongod does, then reports
// that sorting by metadata is not implemented.
func checkMeta(meta bson.D) error {
	if len(meta) == 0 || meta[0].Key != "$meta" {
		return mongoerr.Newf(17312, "$meta is the only expression supported by $sort right now")
	}
	if len(meta) != 1 {
		return mongoerr.Newf(mongoerr.FailedToParse, "Cannot have additional keys in a $meta sort specification")
	}
	name, _ := meta[0].Value.(string)
	if !validMetaSorts[name] {
		return mongoerr.Newf(31138, "Illegal $meta sort: $meta: %s", value.Format(meta[0].Value))
	}
	return mongoerr.Newf(mongoerr.NotImplemented, "sorting by {$meta: %q} is not supported", name)
}

// direction converts a sort value to the integer mongod compares with ±1: numbers are
// truncated toward zero (so 1.5 means ascending), out-of-range values saturate.
func direction(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return saturate(x), true
	case bson.Decimal128:
		if i, ok := value.ToInt64(x); ok {
			return i, true
		}
		f, _ := value.ToFloat64(x)
		return saturate(math.RoundToEven(f)), true
	}
	return 0, false
}

func saturate(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// Fields returns the sort's components in order (for index selection).
func (s *Sorter) Fields() []Field {
	out := make([]Field, len(s.fields))
	for i, f := range s.fields {
		out[i] = Field{Path: f.path, Desc: f.desc}
	}
	return out
}

// Len returns the number of sort components.
func (s *Sorter) Len() int { return len(s.fields) }

// Key is a document's extracted sort key. The zero Key sorts like a document whose sort
// fields are all null.
type Key struct {
	vals []any
}

// Key extracts doc's sort key. It fails (BadValue) only when two sort paths traverse
// different arrays of doc, which mongod refuses as well.
func (s *Sorter) Key(doc bson.D) (Key, error) {
	vals := make([]any, len(s.fields))
	if err := s.keyInto(doc, vals, nil); err != nil {
		return Key{}, err
	}
	return Key{vals: vals}, nil
}

// CompareKeys orders two keys of this sorter: negative if a sorts first, positive if b
// does, 0 for a tie (callers keep ties in their original order).
func (s *Sorter) CompareKeys(a, b Key) int {
	return s.compareVals(a.vals, b.vals)
}

func (s *Sorter) compareVals(a, b []any) int {
	for i := range s.fields {
		var x, y any
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		c := value.Compare(x, y)
		if c != 0 {
			if s.fields[i].desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// Compare orders two documents: Key on both, then CompareKeys.
func (s *Sorter) Compare(a, b bson.D) (int, error) {
	ka, err := s.Key(a)
	if err != nil {
		return 0, err
	}
	kb, err := s.Key(b)
	if err != nil {
		return 0, err
	}
	return s.CompareKeys(ka, kb), nil
}

// entry pairs a document with its extracted key while sorting.
type entry struct {
	key []any
	doc bson.D
}

// SortDocs sorts docs in place, stably, extracting each document's key once. On error docs
// is left unchanged.
func SortDocs(docs []bson.D, s *Sorter) error {
	if len(docs) < 2 {
		if len(docs) == 1 {
			// Still validate the key, so a lone document with parallel arrays fails as in mongod.
			_, err := s.Key(docs[0])
			return err
		}
		return nil
	}
	n := len(s.fields)
	backing := make([]any, len(docs)*n)
	entries := make([]entry, len(docs))
	var ks keyScratch
	for i, d := range docs {
		k := backing[i*n : (i+1)*n : (i+1)*n]
		if err := s.keyInto(d, k, &ks); err != nil {
			return err
		}
		entries[i] = entry{key: k, doc: d}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return s.compareVals(a.key, b.key) })
	for i := range entries {
		docs[i] = entries[i].doc
	}
	return nil
}
