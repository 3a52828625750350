package match

import (
	"math"
	"slices"
	"sort"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/pcre"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// isNull reports whether v is BSON null.
func isNull(v any) bool {
	if v == nil {
		return true
	}
	_, ok := v.(bson.Null)
	return ok
}

// eqLeaf is equality ({a: 5}, $eq). Equality with null also matches a missing field; since
// MongoDB 8.0 it no longer matches undefined.
type eqLeaf struct {
	rhs  any
	null bool
	str  bool // rhs is a string: compare bytes directly
	s    string
}

func newEqLeaf(rhs any) *eqLeaf {
	e := &eqLeaf{rhs: rhs, null: isNull(rhs)}
	if s, ok := rhs.(string); ok {
		e.str, e.s = true, s
	}
	return e
}

func (e *eqLeaf) test(v any) (bool, int) {
	if e.null {
		return isNull(v) || value.IsMissing(v), -1
	}
	if e.str {
		switch x := v.(type) {
		case string:
			return x == e.s, -1
		case bson.Symbol:
			return string(x) == e.s, -1
		}
		return false, -1
	}
	return value.Compare(v, e.rhs) == 0, -1
}

// Comparison operators of cmpLeaf.
const (
	opLT = iota
	opLTE
	opGT
	opGTE
)

// cmpLeaf is $lt, $lte, $gt or $gte. Values of another canonical type never match (type
// bracketing), except that MinKey and MaxKey compare with everything and null bounds treat a
// missing field as null. NaN only satisfies $lte/$gte against NaN.
type cmpLeaf struct {
	op                              int
	rhs                             any
	rhsNull, rhsMin, rhsMax, rhsNaN bool
}

func newCmpLeaf(op int, rhs any) *cmpLeaf {
	c := &cmpLeaf{op: op, rhs: rhs, rhsNull: isNull(rhs), rhsNaN: value.IsNaN(rhs)}
	switch rhs.(type) {
	case bson.MinKey:
		c.rhsMin = true
	case bson.MaxKey:
		c.rhsMax = true
	}
	return c
}

func (c *cmpLeaf) test(v any) (bool, int) {
	if !value.SameBracket(v, c.rhs) {
		switch {
		case c.rhsNull:
			return value.IsMissing(v) && (c.op == opLTE || c.op == opGTE), -1
		case c.rhsMax:
			return c.op == opLT || c.op == opLTE, -1
		case c.rhsMin:
			return c.op == opGT || c.op == opGTE, -1
		}
		return false, -1
	}
	if lhsNaN := value.IsNaN(v); lhsNaN || c.rhsNaN {
		return lhsNaN && c.rhsNaN && (c.op == opLTE || c.op == opGTE), -1
	}
	r := value.Compare(v, c.rhs)
	switch c.op {
	case opLT:
		return r < 0, -1
	case opLTE:
		return r <= 0, -1
	case opGT:
		return r > 0, -1
	}
	return r >= 0, -1
}

// inLeaf is $in: equality with any of a sorted list of values, or a match of any regex. A
// null in the list also matches a missing field.
type inLeaf struct {
	vals    []any // sorted by value.Compare
	hasNull bool
	regexes []*regexLeaf
}

func newInLeaf(vals []any, regexes []*regexLeaf) *inLeaf {
	in := &inLeaf{vals: vals, regexes: regexes}
	sort.SliceStable(in.vals, func(i, j int) bool { return value.Compare(in.vals[i], in.vals[j]) < 0 })
	in.hasNull = slices.ContainsFunc(vals, isNull)
	return in
}

func (in *inLeaf) test(v any) (bool, int) {
	if in.hasNull && value.IsMissing(v) {
		return true, -1
	}
	if len(in.vals) > 0 && !value.IsMissing(v) {
		i := sort.Search(len(in.vals), func(i int) bool { return value.Compare(in.vals[i], v) >= 0 })
		if i < len(in.vals) && value.Compare(in.vals[i], v) == 0 {
			return true, -1
		}
	}
	for _, r := range in.regexes {
		if ok, _ := r.test(v); ok {
			return true, -1
		}
	}
	return false, -1
}

// existsLeaf is $exists: true.
type existsLeaf struct{}

func (existsLeaf) test(v any) (bool, int) { return !value.IsMissing(v), -1 }

// typeLeaf is $type: membership of the value's BSON type in a set.
type typeLeaf struct {
	set [4]uint64 // bit uint8(type number)
}

func (t *typeLeaf) add(n int32) { b := uint8(n); t.set[b>>6] |= 1 << (b & 63) }

func (t *typeLeaf) addNumbers() {
	for _, n := range []int32{value.TypeDouble, value.TypeInt, value.TypeLong, value.TypeDecimal} {
		t.add(n)
	}
}

func (t *typeLeaf) empty() bool { return t.set == [4]uint64{} }

func (t *typeLeaf) has(v any) bool {
	n := value.TypeOf(v)
	if n == value.TypeMissing || n == -2 {
		return false
	}
	b := uint8(n)
	return t.set[b>>6]&(1<<(b&63)) != 0
}

func (t *typeLeaf) test(v any) (bool, int) { return t.has(v), -1 }

// sizeLeaf is $size: an array with exactly n elements.
type sizeLeaf struct{ n int }

func (s sizeLeaf) test(v any) (bool, int) {
	arr, ok := v.(bson.A)
	return ok && len(arr) == s.n, -1
}

// modLeaf is $mod: numbers whose value truncated to an integer has the given remainder.
// Non-finite numbers and values outside the int64 range never match.
type modLeaf struct{ div, rem int64 }

func (m modLeaf) test(v any) (bool, int) {
	n, ok := truncToInt64(v)
	if !ok {
		return false, -1
	}
	return n%m.div == m.rem, -1
}

// truncContext rounds decimals toward zero.
var truncContext = func() *apd.Context {
	c := value.DecimalContext.WithPrecision(34)
	c.Rounding = apd.RoundDown
	return c
}()

// truncToInt64 truncates a number toward zero, failing for non-numbers, NaN, infinities and
// values outside the int64 range.
func truncToInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, false
		}
		t := math.Trunc(x)
		if t < -9.223372036854775808e18 || t >= 9.223372036854775808e18 {
			return 0, false
		}
		return int64(t), true
	case bson.Decimal128:
		d, err := value.ToDecimal(x)
		if err != nil || d.Form != apd.Finite {
			return 0, false
		}
		var t apd.Decimal
		if _, err := truncContext.RoundToIntegralValue(&t, d); err != nil {
			return 0, false
		}
		n, err := t.Int64()
		return n, err == nil
	}
	return 0, false
}

// regexLeaf is a regular expression test. It matches strings and symbols by pattern, and a
// stored regex whose pattern and flags are identical to the query's.
type regexLeaf struct {
	pattern, flags string
	re             *pcre.Regexp
}

func newRegexLeaf(pattern, flags string) (*regexLeaf, error) {
	re, err := compileRegex(pattern, flags)
	if err != nil {
		return nil, err
	}
	return &regexLeaf{pattern: pattern, flags: flags, re: re}, nil
}

func (r *regexLeaf) test(v any) (bool, int) {
	switch x := v.(type) {
	case string:
		return r.re.MatchString(x), -1
	case bson.Symbol:
		return r.re.MatchString(string(x)), -1
	case bson.Regex:
		return x.Pattern == r.pattern && x.Options == r.flags, -1
	}
	return false, -1
}

// Bit test operators of bitsLeaf.
const (
	bitsAllSet = iota
	bitsAllClear
	bitsAnySet
	bitsAnyClear
)

// bitsLeaf is $bitsAllSet, $bitsAllClear, $bitsAnySet or $bitsAnyClear. Numbers must be
// integral and within int64 to match; they are tested as two's complement, so positions at
// and beyond 63 report the sign. BinData is tested byte by byte, least significant bit
// first, and zero-extended.
type bitsLeaf struct {
	op        int
	mask      uint64   // the positions below 64 (63 standing for every higher one)
	positions []uint32 // every position, for BinData values
}

func (b *bitsLeaf) test(v any) (bool, int) {
	var n int64
	switch x := v.(type) {
	case bson.Binary:
		return b.testBytes(x.Data), -1
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if math.IsNaN(x) || x >= 9.223372036854775808e18 || x < -9.223372036854775808e18 || x != math.Trunc(x) {
			return false, -1
		}
		n = int64(x)
	case bson.Decimal128:
		i, ok := value.ToInt64(x)
		if !ok {
			return false, -1
		}
		n = i
	default:
		return false, -1
	}
	u := uint64(n)
	switch b.op {
	case bitsAllSet:
		return u&b.mask == b.mask, -1
	case bitsAllClear:
		return ^u&b.mask == b.mask, -1
	case bitsAnySet:
		return u&b.mask != 0, -1
	}
	return ^u&b.mask != 0, -1
}

func (b *bitsLeaf) testBytes(data []byte) bool {
	for _, p := range b.positions {
		set := false
		if int(p/8) < len(data) {
			set = data[p/8]&(1<<(p%8)) != 0
		}
		switch b.op {
		case bitsAllSet:
			if !set {
				return false
			}
		case bitsAllClear:
			if set {
				return false
			}
		case bitsAnySet:
			if set {
				return true
			}
		case bitsAnyClear:
			if !set {
				return true
			}
		}
	}
	return b.op == bitsAllSet || b.op == bitsAllClear
}

// elemValueLeaf is $elemMatch over values ({$elemMatch: {$gte: 80, $lt: 85}}): an array with
// one element satisfying every predicate, each tested on the element itself.
type elemValueLeaf struct{ subs []pred }

func (e *elemValueLeaf) test(v any) (bool, int) {
	arr, ok := v.(bson.A)
	if !ok {
		return false, -1
	}
next:
	for k, el := range arr {
		for _, s := range e.subs {
			if ok, _ := s.single(el); !ok {
				continue next
			}
		}
		return true, k
	}
	return false, -1
}

// elemObjectLeaf is $elemMatch over documents ({$elemMatch: {a: 1, b: {$gt: 2}}}): an array
// with one element that is a document (or an array, seen as a document keyed by position)
// matching the query.
type elemObjectLeaf struct{ sub node }

func (e *elemObjectLeaf) test(v any) (bool, int) {
	arr, ok := v.(bson.A)
	if !ok {
		return false, -1
	}
	for k, el := range arr {
		var d bson.D
		switch x := el.(type) {
		case bson.D:
			d = x
		case bson.A:
			d = arrayAsDoc(x)
		default:
			continue
		}
		// Sub-queries of $elemMatch cannot contain $expr, so evaluation cannot fail.
		if ok, _, _ := e.sub.eval(d, nil); ok {
			return true, k
		}
	}
	return false, -1
}

// arrayAsDoc views an array as the document mongod sees: keys "0", "1", ….
func arrayAsDoc(a bson.A) bson.D {
	d := make(bson.D, len(a))
	for i, v := range a {
		d[i] = bson.E{Key: itoa(i), Value: v}
	}
	return d
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	return string(buf[n:])
}
