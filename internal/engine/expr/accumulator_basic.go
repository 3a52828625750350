package expr

import (
	"math"
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// accMinMaxFolder is $min (sense 1) or $max (sense -1): null, undefined and missing are
// ignored; the first of equal values is kept; null when nothing was kept.
type accMinMaxFolder struct {
	sense int
	have  bool
	v     any
}

func (m *accMinMaxFolder) fold(v any) error {
	if value.IsNullish(v) {
		return nil
	}
	if !m.have || value.Compare(m.v, v)*m.sense > 0 {
		m.v, m.have = v, true
	}
	return nil
}

func (m *accMinMaxFolder) result() (any, error) {
	if !m.have {
		return nil, nil
	}
	return m.v, nil
}

// accFirstFolder is $first: the value of the first document, null if it had none.
type accFirstFolder struct {
	have bool
	v    any
}

func (f *accFirstFolder) fold(v any) error {
	if !f.have {
		f.v, f.have = v, true
	}
	return nil
}

func (f *accFirstFolder) result() (any, error) { return accNullIfMissing(f.v), nil }

// accLastFolder is $last: the value of the last document, null if it had none.
type accLastFolder struct{ v any }

func (f *accLastFolder) fold(v any) error { f.v = v; return nil }

func (f *accLastFolder) result() (any, error) { return accNullIfMissing(f.v), nil }

// accPushFolder is $push: every value but missing ones, in order.
type accPushFolder struct{ out bson.A }

func (p *accPushFolder) fold(v any) error {
	if !value.IsMissing(v) {
		p.out = append(p.out, v)
	}
	return nil
}

// result returns the array itself: appends after it never touch the part it covers
// (its length is fixed), so it needs no copy.
func (p *accPushFolder) result() (any, error) { return p.out[:len(p.out):len(p.out)], nil }

// accSetFolder is $addToSet: distinct values (by BSON equality, so 1, 1.0 and
// NumberLong(1) are one), missing skipped. MongoDB leaves the order unspecified; this
// keeps first-seen order.
type accSetFolder struct {
	out     bson.A
	buckets map[uint64][]int32 // hash -> indexes into out
}

func newAccSetFolder() *accSetFolder {
	return &accSetFolder{out: bson.A{}, buckets: map[uint64][]int32{}}
}

func (s *accSetFolder) fold(v any) error {
	if value.IsMissing(v) {
		return nil
	}
	h := accHash(accHashSeed, v)
	for _, i := range s.buckets[h] {
		if value.Equal(s.out[i], v) {
			return nil
		}
	}
	s.buckets[h] = append(s.buckets[h], int32(len(s.out)))
	s.out = append(s.out, v)
	return nil
}

func (s *accSetFolder) result() (any, error) { return s.out[:len(s.out):len(s.out)], nil }

// accConcatFolder is $concatArrays (the elements of every input array, in order) or,
// with set, $setUnion (the distinct elements). Missing inputs are skipped; anything else
// that is not an array is an error.
type accConcatFolder struct {
	op  string
	out bson.A
	set *accSetFolder
}

func (c *accConcatFolder) fold(v any) error {
	if value.IsMissing(v) {
		return nil
	}
	arr, ok := v.(bson.A)
	if !ok {
		return mongoerr.Newf(mongoerr.TypeMismatch, "%s requires array inputs, but input %s is of type %s",
			c.op, value.Format(v), value.TypeName(v))
	}
	if c.set == nil {
		c.out = append(c.out, arr...)
		return nil
	}
	for _, e := range arr {
		_ = c.set.fold(e)
	}
	return nil
}

func (c *accConcatFolder) result() (any, error) {
	if c.set != nil {
		return c.set.result()
	}
	return c.out[:len(c.out):len(c.out)], nil
}

// accMergeFolder is $mergeObjects: later fields overwrite earlier ones in place, new
// ones are appended; null, undefined and missing inputs are ignored.
type accMergeFolder struct{ out bson.D }

func (m *accMergeFolder) fold(v any) error {
	return accMergeInto(&m.out, v)
}

func accMergeInto(out *bson.D, v any) error {
	if value.IsNullish(v) {
		return nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return mongoerr.Newf(40400, "$mergeObjects requires object inputs, but input %s is of type %s",
			value.Format(v), value.TypeName(v))
	}
next:
	for _, e := range d {
		for i := range *out {
			if (*out)[i].Key == e.Key {
				(*out)[i].Value = e.Value
				continue next
			}
		}
		*out = append(*out, e)
	}
	return nil
}

// result copies, since later inputs overwrite fields in place.
func (m *accMergeFolder) result() (any, error) {
	if m.out == nil {
		return bson.D{}, nil
	}
	return slices.Clone(m.out), nil
}

// accQueueFolder keeps the window's values in arrival order: MongoDB's window $push
// (missing skipped), $first and $last (missing kept, reported as null).
type accQueueFolder struct {
	push, last bool
	vals       []any
	head       int
}

func (q *accQueueFolder) fold(v any) error {
	if q.push && value.IsMissing(v) {
		return nil
	}
	q.vals = append(q.vals, v)
	return nil
}

func (q *accQueueFolder) unfold(v any) error {
	if q.push && value.IsMissing(v) {
		return nil
	}
	if q.head < len(q.vals) {
		q.vals[q.head] = nil
		q.head++
	}
	// Reclaim the consumed prefix once it dominates, keeping removal amortized O(1).
	if q.head > 32 && q.head*2 > len(q.vals) {
		q.vals = append(q.vals[:0], q.vals[q.head:]...)
		q.head = 0
	}
	return nil
}

func (q *accQueueFolder) result() (any, error) {
	live := q.vals[q.head:]
	switch {
	case q.push:
		return append(bson.A{}, live...), nil
	case len(live) == 0:
		return nil, nil
	case q.last:
		return accNullIfMissing(live[len(live)-1]), nil
	}
	return accNullIfMissing(live[0]), nil
}

// Modes of accSortedFolder.
const (
	accSortedMin = iota
	accSortedMax
	accSortedSet
)

// accSortedFolder keeps the window's values sorted (MongoDB's ordered multiset) for the
// window forms of $min, $max and $addToSet. Equal values keep arrival order, so removal
// drops the oldest of them.
type accSortedFolder struct {
	mode int
	vals []any
}

func (s *accSortedFolder) fold(v any) error {
	if s.skip(v) {
		return nil
	}
	s.vals = slices.Insert(s.vals, accUpperBound(s.vals, v), v)
	return nil
}

func (s *accSortedFolder) unfold(v any) error {
	if s.skip(v) {
		return nil
	}
	i := accLowerBound(s.vals, v)
	if i < len(s.vals) && value.Equal(s.vals[i], v) {
		s.vals = slices.Delete(s.vals, i, i+1)
	}
	return nil
}

func (s *accSortedFolder) skip(v any) bool {
	if s.mode == accSortedSet {
		return value.IsMissing(v)
	}
	return value.IsNullish(v)
}

func (s *accSortedFolder) result() (any, error) {
	switch s.mode {
	case accSortedMin:
		if len(s.vals) == 0 {
			return nil, nil
		}
		return s.vals[0], nil
	case accSortedMax:
		if len(s.vals) == 0 {
			return nil, nil
		}
		return s.vals[len(s.vals)-1], nil
	}
	out := bson.A{}
	for i, v := range s.vals {
		if i == 0 || !value.Equal(s.vals[i-1], v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// accUpperBound returns the index after the last element not greater than v.
func accUpperBound(vals []any, v any) int {
	lo, hi := 0, len(vals)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if value.Compare(vals[m], v) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// accLowerBound returns the index of the first element not less than v.
func accLowerBound(vals []any, v any) int {
	lo, hi := 0, len(vals)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if value.Compare(vals[m], v) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// accHashSeed and accHashPrime are FNV-1a's 64-bit constants.
const (
	accHashSeed  uint64 = 14695981039346656037
	accHashPrime uint64 = 1099511628211
)

func accHashUint(h, x uint64) uint64 {
	for i := 0; i < 8; i++ {
		h ^= x & 0xff
		h *= accHashPrime
		x >>= 8
	}
	return h
}

func accHashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= accHashPrime
	}
	return accHashUint(h, uint64(len(s)))
}

// accHash hashes v consistently with value.Equal: values that compare equal (1, 1.0,
// NumberLong(1), NumberDecimal("1.00"); a string and the same symbol) hash alike.
func accHash(h uint64, v any) uint64 {
	switch x := v.(type) {
	case int32, int64, float64, bson.Decimal128:
		f, _ := value.ToFloat64(x)
		switch {
		case math.IsNaN(f):
			f = math.NaN()
		case f == 0:
			f = 0 // fold -0 into 0
		}
		return accHashUint(accHashUint(h, 10), math.Float64bits(f))
	case string:
		return accHashString(accHashUint(h, 15), x)
	case bson.Symbol:
		return accHashString(accHashUint(h, 15), string(x))
	case bson.D:
		h = accHashUint(h, 20)
		for _, e := range x {
			h = accHash(accHashString(h, e.Key), e.Value)
		}
		return accHashUint(h, uint64(len(x)))
	case bson.A:
		h = accHashUint(h, 25)
		for _, e := range x {
			h = accHash(h, e)
		}
		return accHashUint(h, uint64(len(x)))
	case bson.Binary:
		return accHashString(accHashUint(accHashUint(h, 30), uint64(x.Subtype)), string(x.Data))
	case bson.ObjectID:
		return accHashString(accHashUint(h, 35), string(x[:]))
	case bool:
		if x {
			return accHashUint(h, 41)
		}
		return accHashUint(h, 40)
	case bson.DateTime:
		return accHashUint(accHashUint(h, 45), uint64(x))
	case bson.Timestamp:
		return accHashUint(accHashUint(h, 47), uint64(x.T)<<32|uint64(x.I))
	case bson.Regex:
		return accHashString(accHashString(accHashUint(h, 50), x.Pattern), x.Options)
	case bson.JavaScript:
		return accHashString(accHashUint(h, 60), string(x))
	}
	// Every other type hashes by its BSON type alone; value.Equal sorts out collisions.
	return accHashUint(h, uint64(uint32(value.TypeOf(v))))
}
