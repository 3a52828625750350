package match

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// leaf is a test of one value produced by a path traversal (possibly value.Missing).
type leaf interface {
	// test reports whether v satisfies the leaf and, for $elemMatch, the index of the array
	// element that satisfied it (-1 otherwise).
	test(v any) (bool, int)
}

// path is a dotted field path split into its components.
type path struct {
	parts []string
	// index holds, for each component that is an array index ("0", "12"), its value, and -1
	// for other components. "01" is not an index: mongod compares the component with the
	// element's field name, which never has leading zeros.
	index []int
}

func newPath(dotted string) *path {
	parts := strings.Split(dotted, ".")
	p := &path{parts: parts, index: make([]int, len(parts))}
	for i, s := range parts {
		p.index[i] = arrayIndex(s)
	}
	return p
}

// arrayIndex returns the array position s names, or -1.
func arrayIndex(s string) int {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// yield tests one value the traversal produced. off is the array offset the value came
// from (-1 when it did not come from an implicit array traversal); it takes precedence over
// the position an $elemMatch reports, as in mongod.
func yield(v any, off int, l leaf) (bool, int) {
	ok, inner := l.test(v)
	if !ok {
		return false, -1
	}
	if off >= 0 {
		return true, off
	}
	return true, inner
}

// fromDoc walks parts[i:] from doc, stopping at the first value that satisfies l. off is the
// outermost implicit array offset so far (-1 for none). expand makes a leaf array produce its
// elements before itself.
//
// This follows mongod's BSONElementIterator: a missing field (or a scalar in the middle of
// the path) produces one missing value; an array in the middle of the path is traversed
// (fromArray); an array at the end produces its elements (when expand) and then itself.
func (p *path) fromDoc(doc bson.D, i, off int, l leaf, expand bool) (bool, int) {
	for {
		v, found := value.Lookup(doc, p.parts[i])
		if !found {
			return yield(value.Missing, off, l)
		}
		if i == len(p.parts)-1 {
			return atLeaf(v, off, l, expand)
		}
		switch x := v.(type) {
		case bson.D:
			doc = x
			i++
		case bson.A:
			return p.fromArray(x, i+1, off, l, expand)
		default:
			return yield(value.Missing, off, l)
		}
	}
}

// atLeaf tests the value found at the end of a path.
func atLeaf(v any, off int, l leaf, expand bool) (bool, int) {
	if arr, ok := v.(bson.A); ok && expand {
		for k, e := range arr {
			o := off
			if o < 0 {
				o = k
			}
			if m, pos := yield(e, o, l); m {
				return true, pos
			}
		}
		// The array itself is tested too, without an offset of its own.
	}
	return yield(v, off, l)
}

// fromArray walks parts[i:] through the elements of arr, an array met in the middle of the
// path. Documents are searched for parts[i] (an implicit traversal, whose offset is the
// element's index); when parts[i] is a number, the element at that position is also followed
// explicitly (which sets no offset of its own). Scalars and nested arrays are skipped unless
// addressed by position. Nothing is produced when no element yields a value, so {"a.b": null}
// does not match {a: [1, 2]}.
func (p *path) fromArray(arr bson.A, i, off int, l leaf, expand bool) (bool, int) {
	idx := p.index[i]
	last := i == len(p.parts)-1
	for k, e := range arr {
		o := off
		if o < 0 {
			o = k
		}
		d, isDoc := e.(bson.D)
		if isDoc {
			if m, pos := p.fromDoc(d, i, o, l, expand); m {
				return true, pos
			}
		}
		if k != idx {
			continue
		}
		if last {
			if m, pos := yield(e, off, l); m {
				return true, pos
			}
			continue
		}
		switch x := e.(type) {
		case bson.D:
			if m, pos := p.fromDoc(x, i+1, off, l, expand); m {
				return true, pos
			}
		case bson.A:
			if m, pos := p.fromArray(x, i+1, off, l, expand); m {
				return true, pos
			}
		}
	}
	return false, -1
}
