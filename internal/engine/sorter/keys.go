package sorter

import (
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// keyScratch holds buffers reused across key extractions of many documents (one per
// nesting level of arrays), so the slow path does not allocate per document.
type keyScratch struct {
	levels [][]kstate
}

func (ks *keyScratch) level(depth, n int) []kstate {
	for len(ks.levels) <= depth {
		ks.levels = append(ks.levels, nil)
	}
	if cap(ks.levels[depth]) < n {
		ks.levels[depth] = make([]kstate, n)
	}
	return ks.levels[depth][:n]
}

// keyInto writes doc's sort key into dst (len(dst) == len(s.fields)); ks may be nil.
//
// Most documents have no array along any sort path; for them the key is just the value at
// each path (null when missing), found without allocating. Otherwise the index keys of the
// document are generated as mongod's btree key generator would (see keygen) and the
// smallest one under the sort order is kept.
func (s *Sorter) keyInto(doc bson.D, dst []any, ks *keyScratch) error {
	for i, f := range s.fields {
		v, ok := simpleLookup(doc, f.parts)
		if !ok {
			if ks == nil {
				ks = &keyScratch{}
			}
			return s.slowKey(doc, dst, ks)
		}
		dst[i] = v
	}
	return nil
}

// simpleLookup returns the value at parts in doc (nil for missing), or ok=false when an
// array is met along the path, including as the value itself.
func simpleLookup(doc bson.D, parts []string) (v any, ok bool) {
	cur := doc
	for i, p := range parts {
		x, found := value.Lookup(cur, p)
		if !found {
			return nil, true
		}
		switch y := x.(type) {
		case bson.A:
			return nil, false
		case bson.D:
			if i == len(parts)-1 {
				return y, true
			}
			cur = y
		default:
			if i == len(parts)-1 {
				return x, true
			}
			// A scalar with more path to go: the path is missing.
			return nil, true
		}
	}
	return nil, true
}

// slowKey generates every index key of doc and keeps the smallest in dst.
func (s *Sorter) slowKey(doc bson.D, dst []any, ks *keyScratch) error {
	g := keygen{s: s, best: dst, ks: ks}
	st := ks.level(0, len(s.fields))
	for i, f := range s.fields {
		st[i] = kstate{rest: f.parts}
	}
	return g.walk(doc, st, nil, 1)
}

// kstate is the progress of one sort path during key generation: the path components not
// yet traversed, or the value once the path is resolved.
type kstate struct {
	rest []string
	val  any
	done bool
}

// posInfo records, for a path whose component after an array is a valid index into that
// array ("a.1.b" over a: [...]), the element that index selects and what lies along the
// rest of the path from there. mongod's key generator treats such a component as an array
// index rather than expanding the array.
type posInfo struct {
	ok      bool
	arr     bson.A // the array being indexed
	indexed any    // arr[index]
	elem    any    // the element found along the rest of the path (valid when found)
	found   bool
	rest    []string // path left after elem (non-empty only when elem is an array)
	prefix  []string // components consumed from arr to reach elem, for array identity
}

// keygen generates the index keys of one document for the sort pattern and keeps the
// smallest under the sort order.
type keygen struct {
	s    *Sorter
	best []any
	have bool
	ks   *keyScratch
}

func (g *keygen) emit(st []kstate) {
	if g.have {
		for i := range st {
			c := value.Compare(st[i].val, g.best[i])
			if g.s.fields[i].desc {
				c = -c
			}
			if c > 0 {
				return
			}
			if c < 0 {
				break
			}
		}
	}
	for i := range st {
		g.best[i] = st[i].val
	}
	g.have = true
}

// arrayIdentity tells whether two paths reached the same array: the same components from
// the same starting point, and the same kind of lookup (positional or not).
type arrayIdentity struct {
	positional bool
	prefix     []string
}

// walk is one level of key generation for the (sub)document obj (nil stands for an empty
// document: the element of an array that is not a document). Paths that end here get
// their value; paths that reach an array must all reach the same array, which is then
// expanded one element at a time.
func (g *keygen) walk(obj bson.D, st []kstate, pos []posInfo, depth int) error {
	var (
		arr      bson.A
		haveArr  bool
		arrID    arrayIdentity
		arrIdxs  []int
		maySplit = true // false when the array came from indexing into a nested array
	)
	for i := range st {
		if st[i].done {
			continue
		}
		var p *posInfo
		if pos != nil && pos[i].ok {
			p = &pos[i]
		}
		e, found, rest, id, nested, err := extractNext(obj, p, st[i].rest)
		if err != nil {
			return err
		}
		if !found {
			st[i].val, st[i].done = nil, true
			continue
		}
		a, isArr := e.(bson.A)
		if !isArr {
			st[i].val, st[i].done = e, true
			continue
		}
		if !haveArr {
			arr, haveArr, arrID = a, true, id
		} else if id.positional != arrID.positional || !slices.Equal(id.prefix, arrID.prefix) {
			return mongoerr.Newf(mongoerr.BadValue, "cannot sort with keys that are parallel arrays")
		}
		arrIdxs = append(arrIdxs, i)
		st[i].rest = rest
		if nested {
			maySplit = false
		}
	}
	if !haveArr {
		g.emit(st)
		return nil
	}
	child := g.ks.level(depth, len(st))
	if len(arr) == 0 {
		// An empty array: paths ending at it get undefined, paths going through it find
		// nothing (null).
		copy(child, st)
		for _, i := range arrIdxs {
			if len(child[i].rest) == 0 {
				child[i].val, child[i].done = bson.Undefined{}, true
			}
		}
		return g.walk(nil, child, nil, depth+1)
	}
	var sub []posInfo
	for _, i := range arrIdxs {
		rest := st[i].rest
		if len(rest) == 0 {
			continue
		}
		idx, ok := arrayIndex(arr, rest[0])
		if !ok {
			continue
		}
		if sub == nil {
			sub = make([]posInfo, len(st))
		}
		p := &sub[i]
		p.ok, p.arr, p.indexed = true, arr, arr[idx]
		p.elem, p.found, p.rest, p.prefix = extractFromArray(arr, rest)
	}
	for _, el := range arr {
		copy(child, st)
		for _, i := range arrIdxs {
			if len(child[i].rest) == 0 {
				if maySplit {
					child[i].val = el
				} else {
					child[i].val = arr
				}
				child[i].done = true
			}
		}
		elDoc, _ := el.(bson.D)
		if err := g.walk(elDoc, child, sub, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// extractNext finds the next value along rest from obj: the value at the end of the path,
// or the first array met on the way (with the path left after it). A path component that
// indexed into the enclosing array (p) is used when obj has no such field.
func extractNext(obj bson.D, p *posInfo, rest []string) (e any, found bool, after []string, id arrayIdentity, nested bool, err error) {
	_, haveField := value.Lookup(obj, rest[0])
	if haveField && p != nil {
		return nil, false, nil, id, false, mongoerr.Newf(16746,
			"Ambiguous field name found in array (do not use numeric field names in embedded elements in an array), field: '%s'", rest[0])
	}
	if haveField || p == nil {
		e, found, after = extractAlong(obj, rest)
		return e, found, after, arrayIdentity{prefix: rest[:len(rest)-len(after)]}, false, nil
	}
	_, nested = p.indexed.(bson.A)
	return p.elem, p.found, p.rest, arrayIdentity{positional: true, prefix: p.prefix}, nested, nil
}

// extractAlong walks parts from doc through embedded documents. It returns the value at
// the end of the path, or stops at the first array (returning it and the components after
// it). A missing field or a scalar with path left gives found=false.
func extractAlong(doc bson.D, parts []string) (e any, found bool, after []string) {
	cur := doc
	for i, p := range parts {
		x, ok := value.Lookup(cur, p)
		if !ok {
			return nil, false, nil
		}
		if _, isArr := x.(bson.A); isArr || i == len(parts)-1 {
			return x, true, parts[i+1:]
		}
		d, isDoc := x.(bson.D)
		if !isDoc {
			return nil, false, nil
		}
		cur = d
	}
	return nil, false, nil
}

// extractFromArray is extractAlong starting from an array seen as a document whose field
// names are the indexes ("0", "1", …).
func extractFromArray(arr bson.A, parts []string) (e any, found bool, after []string, prefix []string) {
	idx, ok := arrayIndex(arr, parts[0])
	if !ok {
		return nil, false, nil, parts[:1]
	}
	x := arr[idx]
	if _, isArr := x.(bson.A); isArr || len(parts) == 1 {
		return x, true, parts[1:], parts[:1]
	}
	d, isDoc := x.(bson.D)
	if !isDoc {
		return nil, false, nil, parts[:1]
	}
	e, found, after = extractAlong(d, parts[1:])
	return e, found, after, parts[:len(parts)-len(after)]
}

// arrayIndex reports whether name is the field name of an element of arr in BSON's array
// encoding: a decimal index without leading zeros, in range.
func arrayIndex(arr bson.A, name string) (int, bool) {
	if name == "" || len(name) > 1 && name[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n >= len(arr) {
			return 0, false
		}
	}
	return n, true
}
