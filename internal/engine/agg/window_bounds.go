package agg

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Window bounds of $setWindowFields: {documents: [lo, hi]} counts documents relative to
// the current one in the partition's sort order; {range: [lo, hi], unit} compares values of
// the single sortBy field with the current document's value. "unbounded" is the partition's
// edge and "current" the current document (by position, for range windows too).

// winBoundKind is the kind of one end of a window.
type winBoundKind uint8

const (
	winUnbounded winBoundKind = iota
	winCurrent
	winOffset
)

// winBound is one end of a window.
type winBound struct {
	kind winBoundKind
	// n is a document offset, or a range delta when the window has a unit.
	n int64
	// delta is a range delta (a number) when the window has no unit.
	delta any
}

// winBounds is a parsed window.
type winBounds struct {
	ranged       bool
	unit         winTimeUnit // range windows over dates
	lower, upper winBound
}

// whole reports whether the window is the whole partition.
func (b *winBounds) whole() bool {
	return b.lower.kind == winUnbounded && b.upper.kind == winUnbounded
}

// winTimeUnit is a unit of date ranges and of $derivative/$integral.
type winTimeUnit uint8

const (
	winNoUnit winTimeUnit = iota
	winYear
	winQuarter
	winMonth
	winWeek
	winDay
	winHour
	winMinute
	winSecond
	winMillisecond
)

var winTimeUnits = map[string]winTimeUnit{
	"year": winYear, "quarter": winQuarter, "month": winMonth, "week": winWeek, "day": winDay,
	"hour": winHour, "minute": winMinute, "second": winSecond, "millisecond": winMillisecond,
}

// winUnitMillis is the length of the fixed-length units.
var winUnitMillis = [...]int64{winWeek: 7 * 86400000, winDay: 86400000, winHour: 3600000,
	winMinute: 60000, winSecond: 1000, winMillisecond: 1}

func parseWinTimeUnit(v any) (winTimeUnit, error) {
	s, _ := v.(string)
	u, ok := winTimeUnits[s]
	if !ok {
		return 0, mongoerr.Newf(mongoerr.FailedToParse, "unknown time unit value: %s", s)
	}
	return u, nil
}

// winAddTime adds amount units to the instant ms (UTC). Month-based units keep the day of
// the month, clamped to the end of the target month, as $dateAdd does. Results beyond
// the representable range saturate, which keeps comparisons with them meaningful.
func winAddTime(ms int64, u winTimeUnit, amount int64) int64 {
	switch u {
	case winYear, winQuarter, winMonth:
		months := amount
		if u == winYear {
			months *= 12
		} else if u == winQuarter {
			months *= 3
		}
		t := time.UnixMilli(ms).UTC()
		y, m, d := t.Date()
		total := int64(y)*12 + int64(m) - 1 + months
		ty, tm := total/12, total%12
		if tm < 0 {
			tm += 12
			ty--
		}
		// int64 milliseconds span about ±292 million years.
		switch {
		case ty > 292_000_000:
			return math.MaxInt64
		case ty < -292_000_000:
			return math.MinInt64
		}
		last := time.Date(int(ty), time.Month(tm)+2, 0, 0, 0, 0, 0, time.UTC).Day()
		d = min(d, last)
		nt := time.Date(int(ty), time.Month(tm)+1, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		return nt.UnixMilli()
	}
	step := winUnitMillis[u]
	if amount != 0 && (amount > math.MaxInt64/step || amount < math.MinInt64/step) {
		if amount > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	delta := amount * step
	switch {
	case delta > 0 && ms > math.MaxInt64-delta:
		return math.MaxInt64
	case delta < 0 && ms < math.MinInt64-delta:
		return math.MinInt64
	}
	return ms + delta
}

// winSort describes the sortBy of a $setWindowFields stage, for the checks window
// functions make on it.
type winSort struct {
	present bool
	fields  []winSortField
}

type winSortField struct {
	path string
	desc bool
}

// single reports whether sortBy has exactly one field.
func (s *winSort) single() bool { return s.present && len(s.fields) == 1 }

// parseWindowBounds parses the 'window' argument of a window function.
func parseWindowBounds(v any, sort *winSort, vars []string) (winBounds, error) {
	d, ok := v.(bson.D)
	if !ok {
		return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "'window' field must be an object")
	}
	var documents, rng, unit any
	var hasDocs, hasRange, hasUnit bool
	for _, e := range d {
		switch e.Key {
		case "documents":
			documents, hasDocs = e.Value, true
		case "range":
			rng, hasRange = e.Value, true
		case "unit":
			unit, hasUnit = e.Value, true
		}
	}
	switch {
	case hasDocs && hasRange:
		return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "Window bounds can specify either 'documents' or 'unit', not both.")
	case !hasRange && hasUnit:
		return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "Window bounds can only specify 'unit' with range-based bounds.")
	case !hasRange && !hasDocs:
		if len(d) != 0 {
			return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "'window' field can only contain 'documents' as the only argument or 'range' with an optional 'unit' field")
		}
		return winBounds{}, nil
	}
	if hasDocs {
		if len(d) != 1 {
			return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "'window' field that specifies documents cannot have other fields")
		}
		lo, hi, err := winUnpack(documents)
		if err != nil {
			return winBounds{}, err
		}
		b := winBounds{}
		parseInt := func(c any) (winBound, error) {
			n, ok := winInt32(c)
			if !ok {
				return winBound{}, mongoerr.Newf(mongoerr.FailedToParse, "Numeric document-based bounds must be an integer")
			}
			return winBound{kind: winOffset, n: n}, nil
		}
		if b.lower, err = parseWinBound(lo, vars, parseInt); err != nil {
			return winBounds{}, err
		}
		if b.upper, err = parseWinBound(hi, vars, parseInt); err != nil {
			return winBounds{}, err
		}
		if err := checkWinForward(b); err != nil {
			return winBounds{}, err
		}
		if !b.whole() && !sort.present {
			return winBounds{}, mongoerr.Newf(5339901, "Document-based bounds require a sortBy")
		}
		return b, nil
	}
	lo, hi, err := winUnpack(rng)
	if err != nil {
		return winBounds{}, err
	}
	b := winBounds{ranged: true}
	if hasUnit {
		if len(d) != 2 {
			return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "'window' field that specifies unit cannot have other fields besides 'range'")
		}
		if _, ok := unit.(string); !ok {
			return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "'unit' must be a string")
		}
		parseInt := func(c any) (winBound, error) {
			n, ok := winInt32(c)
			if !ok {
				return winBound{}, mongoerr.Newf(mongoerr.FailedToParse, "With 'unit', range-based bounds must be an integer")
			}
			return winBound{kind: winOffset, n: n}, nil
		}
		if b.lower, err = parseWinBound(lo, vars, parseInt); err != nil {
			return winBounds{}, err
		}
		if b.upper, err = parseWinBound(hi, vars, parseInt); err != nil {
			return winBounds{}, err
		}
		if err := checkWinForward(b); err != nil {
			return winBounds{}, err
		}
		if b.unit, err = parseWinTimeUnit(unit); err != nil {
			return winBounds{}, err
		}
	} else {
		if len(d) != 1 {
			return winBounds{}, mongoerr.Newf(mongoerr.FailedToParse, "'window' field that specifies range cannot have other fields besides 'unit'")
		}
		parseNum := func(c any) (winBound, error) {
			if !value.IsNumber(c) {
				return winBound{}, mongoerr.Newf(mongoerr.FailedToParse, "Range-based bounds expression must be a number")
			}
			return winBound{kind: winOffset, delta: c}, nil
		}
		if b.lower, err = parseWinBound(lo, vars, parseNum); err != nil {
			return winBounds{}, err
		}
		if b.upper, err = parseWinBound(hi, vars, parseNum); err != nil {
			return winBounds{}, err
		}
		if err := checkWinForward(b); err != nil {
			return winBounds{}, err
		}
	}
	if !sort.single() {
		return winBounds{}, mongoerr.Newf(5339902, "Range-based bounds require sortBy a single field")
	}
	if sort.fields[0].desc {
		return winBounds{}, mongoerr.Newf(8947401, "Range-based bounds require an ascending sortBy")
	}
	return b, nil
}

func winUnpack(v any) (lo, hi any, err error) {
	a, ok := v.(bson.A)
	if !ok || len(a) != 2 {
		return nil, nil, mongoerr.Newf(mongoerr.FailedToParse, "Window bounds must be a 2-element array: %s", value.Format(v))
	}
	return a[0], a[1], nil
}

// parseWinBound parses one end: "unbounded", "current" or a constant expression that
// conv validates.
func parseWinBound(v any, vars []string, conv func(any) (winBound, error)) (winBound, error) {
	if s, ok := v.(string); ok {
		switch s {
		case "unbounded":
			return winBound{kind: winUnbounded}, nil
		case "current":
			return winBound{kind: winCurrent}, nil
		}
		return winBound{}, mongoerr.Newf(mongoerr.FailedToParse, "Window bounds must be 'unbounded', 'current', or a number.")
	}
	c, ok, err := winConstant(v, vars)
	if err != nil {
		return winBound{}, err
	}
	if !ok {
		return winBound{}, mongoerr.Newf(mongoerr.FailedToParse, "Window bounds expression must be a constant.")
	}
	return conv(c)
}

// checkWinForward requires lower <= upper when both are numeric ("current" counts as 0).
func checkWinForward(b winBounds) error {
	num := func(x winBound) (any, bool) {
		switch {
		case x.kind == winCurrent:
			return int32(0), true
		case x.kind == winOffset && x.delta != nil:
			return x.delta, true
		case x.kind == winOffset:
			return x.n, true
		}
		return nil, false
	}
	lo, ok1 := num(b.lower)
	hi, ok2 := num(b.upper)
	if ok1 && ok2 && value.Compare(lo, hi) > 0 {
		return mongoerr.Newf(5339900, "Lower bound must not exceed upper bound: [%s, %s]", value.Format(lo), value.Format(hi))
	}
	return nil
}

// winInt32 converts a number holding an integer in the 32-bit range, as mongod's
// document bounds, $shift's 'by' and date-range bounds require.
func winInt32(v any) (int64, bool) {
	if !value.IsNumber(v) {
		return 0, false
	}
	n, ok := value.ToInt64(v)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return n, true
}

// winConstant evaluates spec when it is constant, as mongod's constant folding would make
// it: a literal, or an expression that references no field or variable ($rand aside).
func winConstant(spec any, vars []string) (any, bool, error) {
	e, err := expr.Compile(spec, vars...)
	if err != nil {
		return nil, false, err
	}
	if c, ok := e.IsConstant(); ok {
		return c, true, nil
	}
	if !winNoReferences(spec) {
		return nil, false, nil
	}
	v, err := e.Eval(&expr.Env{}, bson.D{})
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// winNoReferences reports whether an expression specification uses no field path, no
// variable and no $rand, so that it evaluates to the same value for every document.
func winNoReferences(spec any) bool {
	switch x := spec.(type) {
	case string:
		return !strings.HasPrefix(x, "$")
	case bson.A:
		for _, v := range x {
			if !winNoReferences(v) {
				return false
			}
		}
	case bson.D:
		for _, e := range x {
			switch e.Key {
			case "$literal", "$const":
				continue
			case "$rand":
				return false
			}
			if !winNoReferences(e.Value) {
				return false
			}
		}
	}
	return true
}

// winSpanFunc returns the window of the document at index i of a partition as indexes
// [lo, hi]; the window is empty when hi < lo. Both ends never decrease as i grows.
type winSpanFunc func(i int) (lo, hi int)

// spans prepares the windows of one partition.
func (b *winBounds) spans(c *Context, p *winPartition) (winSpanFunc, error) {
	n := len(p.docs)
	if !b.ranged {
		lower, upper := b.lower, b.upper
		return func(i int) (int, int) {
			lo, hi := 0, n-1
			switch lower.kind {
			case winCurrent:
				lo = i
			case winOffset:
				lo = i + int(lower.n)
			}
			switch upper.kind {
			case winCurrent:
				hi = i
			case winOffset:
				hi = i + int(upper.n)
			}
			return max(lo, 0), min(hi, n-1)
		}, nil
	}
	vals, err := p.rangeValues(c, b.unit)
	if err != nil {
		return nil, err
	}
	los := make([]int, n)
	his := make([]int, n)
	j, k := 0, 0
	for i := range n {
		switch b.lower.kind {
		case winUnbounded:
			los[i] = 0
		case winCurrent:
			los[i] = i
		default:
			t := b.threshold(vals[i], b.lower)
			for j < n && value.Compare(vals[j], t) < 0 {
				j++
			}
			los[i] = j
		}
		switch b.upper.kind {
		case winUnbounded:
			his[i] = n - 1
		case winCurrent:
			his[i] = i
		default:
			t := b.threshold(vals[i], b.upper)
			for k < n && value.Compare(vals[k], t) <= 0 {
				k++
			}
			his[i] = k - 1
		}
	}
	return func(i int) (int, int) { return los[i], his[i] }, nil
}

// threshold is the sortBy value at offset x from v: a date moved by x units, or a number
// plus x, computed exactly (mongod adds as decimals).
func (b *winBounds) threshold(v any, x winBound) any {
	if b.unit != winNoUnit {
		return bson.DateTime(winAddTime(int64(v.(bson.DateTime)), b.unit, x.n))
	}
	return winExactAdd(v, x.delta)
}

// winExactAdd adds two numbers without rounding when the result is only compared: in
// int64 or float64 when exact, else as a decimal.
func winExactAdd(a, b any) any {
	ia, aInt := a.(int32)
	ib, bInt := b.(int32)
	if aInt && bInt {
		return int64(ia) + int64(ib)
	}
	switch {
	case winIsInt(a) && winIsInt(b):
		x, _ := value.ToInt64(a)
		y, _ := value.ToInt64(b)
		if s := x + y; (s > x) == (y > 0) {
			return s
		}
	case winExactFloat(a) && winExactFloat(b):
		x, _ := value.ToFloat64(a)
		y, _ := value.ToFloat64(b)
		s := x + y
		if bb := s - x; !math.IsInf(s, 0) && (x-(s-bb))+(y-bb) == 0 {
			return s
		}
	}
	da, err1 := value.ToDecimal(a)
	db, err2 := value.ToDecimal(b)
	if err1 != nil || err2 != nil {
		return a
	}
	var sum apd.Decimal
	_, _ = value.DecimalContext.Add(&sum, da, db)
	return value.FromDecimal(&sum)
}

func winIsInt(v any) bool {
	switch v.(type) {
	case int32, int64:
		return true
	}
	return false
}

// winExactFloat reports whether v is a double or an integer a double holds exactly.
func winExactFloat(v any) bool {
	switch x := v.(type) {
	case float64:
		return true
	case int32:
		return true
	case int64:
		return x > -(1<<53) && x < 1<<53
	}
	return false
}

// winTypeName names a value's type in error messages, "missing" included.
func winTypeName(v any) string {
	if value.IsMissing(v) {
		return "missing"
	}
	return value.TypeName(v)
}

// winDecimal15 converts a double to a decimal rounded to 15 significant digits, the
// conversion mongod's Decimal128(double) uses by default.
func winDecimal15(f float64) *apd.Decimal {
	d := new(apd.Decimal)
	switch {
	case math.IsNaN(f):
		d.Form = apd.NaN
	case math.IsInf(f, 0):
		d.Form, d.Negative = apd.Infinite, f < 0
	default:
		_, _, _ = d.SetString(strconv.FormatFloat(f, 'e', 14, 64))
	}
	return d
}
