package expr

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// accDD is a compensated ("double-double") sum, the summation MongoDB uses for $sum and
// $avg: the rounded sum plus the rounding error left over, about 106 bits in all, so
// sums of 64-bit integers stay exact and sums of doubles lose almost nothing.
type accDD struct {
	sum, addend float64
	// special is a plain sum, reported when the compensated one turns into NaN (as adding
	// infinities to it does).
	special float64
}

func (d *accDD) addDouble(x float64) {
	d.special += x
	// Fast2Sum of x and the (smaller) pending error, then 2Sum into the running sum.
	s := x + d.addend
	z := s - x
	d.addend -= z
	x = s
	s = d.sum + x
	ap := s - x
	bp := s - ap
	x = (d.sum - ap) + (x - bp)
	d.sum = s
	d.addend += x
}

// addLong adds x as two doubles (its high and low 32 bits) so that no bit is lost.
func (d *accDD) addLong(x int64) {
	high := x / (1 << 32) * (1 << 32)
	d.addDouble(float64(x - high))
	d.addDouble(float64(high))
}

func (d *accDD) double() float64 {
	if math.IsNaN(d.sum) {
		return d.special
	}
	return d.sum
}

const accTwo63 = 9223372036854775808.0

// fitsLong reports whether the sum, rounded to an integer, is in int64 range.
func (d *accDD) fitsLong() bool {
	if d.sum > -accTwo63 && d.sum < accTwo63 {
		return true
	}
	if d.sum == accTwo63 {
		return d.addend < -0.5
	}
	if d.sum == -accTwo63 {
		return d.addend >= -0.5
	}
	return false
}

// long returns the sum rounded to the nearest integer (halves away from zero); fitsLong
// must hold.
func (d *accDD) long() int64 {
	if d.sum == accTwo63 {
		return int64(math.Round(d.addend)) - math.MinInt64
	}
	s := int64(math.Round(d.sum))
	return s + int64(math.Round((d.sum-float64(s))+d.addend))
}

// decimal returns the sum as a decimal, rounded to 34 digits.
func (d *accDD) decimal() *apd.Decimal {
	if math.IsInf(d.sum, 0) || math.IsNaN(d.sum) {
		return accDecFromFloat(d.special)
	}
	out := accDecFromFloat(d.sum)
	_, _ = value.DecimalContext.Add(out, out, accDecFromFloat(d.addend))
	return out
}

// accDecFromFloat converts a double to a decimal rounded to 34 significant digits.
// An exact value takes the exponent nearest zero (2.5 is 2.5, 20.0 is 20, 0.0 is 0), the
// form MongoDB's $sum and $avg results show.
func accDecFromFloat(f float64) *apd.Decimal {
	d := new(apd.Decimal)
	switch {
	case math.IsNaN(f):
		d.Form = apd.NaN
		return d
	case math.IsInf(f, 0):
		d.Form, d.Negative = apd.Infinite, f < 0
		return d
	case f == 0:
		d.Negative = math.Signbit(f)
		return d
	}
	if _, _, err := d.SetString(strconv.FormatFloat(f, 'e', 33, 64)); err != nil {
		d.Form = apd.NaN // unreachable: FormatFloat output always parses
		return d
	}
	d.Reduce(d)
	if d.Exponent > 0 && int64(d.NumDigits())+int64(d.Exponent) <= 34 {
		var scaled apd.Decimal
		if _, err := value.DecimalContext.Quantize(&scaled, d, 0); err == nil {
			d.Set(&scaled)
		}
	}
	return d
}

// accDecimalOf converts a decimal128 input; malformed values (impossible from the codec)
// count as NaN.
func accDecimalOf(x bson.Decimal128) *apd.Decimal {
	d, err := value.ToDecimal(x)
	if err != nil {
		return &apd.Decimal{Form: apd.NaN}
	}
	return d
}

// Numeric ranks of $sum's result type: the widest input type wins.
const (
	accRankInt = iota
	accRankLong
	accRankDouble
	accRankDecimal
)

// accSumFolder is $sum: non-numbers are skipped; the result is an int when every input
// is an int and the total fits (a long if it only fits a long), a long for longs, a
// double past the long range or with any double input, and a decimal with any decimal.
type accSumFolder struct {
	dd     accDD
	dec    apd.Decimal
	widest int
}

func (s *accSumFolder) fold(v any) error {
	switch x := v.(type) {
	case int32:
		s.dd.addDouble(float64(x))
	case int64:
		s.dd.addLong(x)
		s.widest = max(s.widest, accRankLong)
	case float64:
		s.dd.addDouble(x)
		s.widest = max(s.widest, accRankDouble)
	case bson.Decimal128:
		_, _ = value.DecimalContext.Add(&s.dec, &s.dec, accDecimalOf(x))
		s.widest = accRankDecimal
	}
	return nil
}

func (s *accSumFolder) result() (any, error) {
	switch s.widest {
	case accRankInt:
		if s.dd.fitsLong() {
			n := s.dd.long()
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return int32(n), nil
			}
			return n, nil
		}
	case accRankLong:
		if s.dd.fitsLong() {
			return s.dd.long(), nil
		}
	case accRankDecimal:
		return value.FromDecimal(s.total()), nil
	}
	return s.dd.double(), nil
}

// total returns the decimal total plus the non-decimal one, for decimal results.
func (s *accSumFolder) total() *apd.Decimal {
	out := s.dd.decimal()
	_, _ = value.DecimalContext.Add(out, &s.dec, out)
	return out
}

// accConstSumFolder is $sum of a constant int, long or double ({$sum: 1}), which mongod
// adds without compensation: an int total widens to long and a long total to double on
// overflow, a double total adds plainly. The result keeps the total's current type.
type accConstSumFolder struct {
	addend any
	total  any
}

func newAccConstSumFolder(c any) *accConstSumFolder {
	f := &accConstSumFolder{addend: c}
	switch c.(type) {
	case int32:
		f.total = int32(0)
	case int64:
		f.total = int64(0)
	default:
		f.total = 0.0
	}
	return f
}

func (s *accConstSumFolder) fold(any) error {
	switch t := s.total.(type) {
	case int32:
		if c, ok := s.addend.(int32); ok {
			if r := int64(t) + int64(c); r >= math.MinInt32 && r <= math.MaxInt32 {
				s.total = int32(r)
				return nil
			}
		}
		s.total = int64(t)
		return s.fold(nil)
	case int64:
		c, _ := value.ToInt64(s.addend) // an int or a long here
		if r := t + c; (c >= 0) == (r >= t) {
			s.total = r
			return nil
		}
		s.total = float64(t)
		return s.fold(nil)
	default:
		c, _ := value.ToFloat64(s.addend)
		s.total = t.(float64) + c
	}
	return nil
}

func (s *accConstSumFolder) result() (any, error) { return s.total, nil }

// accAvgFolder is $avg: the mean of the numeric inputs as a double (a decimal when any
// input is a decimal), null when there is none.
type accAvgFolder struct {
	sum   accSumFolder
	count int64
}

func (a *accAvgFolder) fold(v any) error {
	if value.IsNumber(v) {
		_ = a.sum.fold(v)
		a.count++
	}
	return nil
}

func (a *accAvgFolder) result() (any, error) {
	if a.count == 0 {
		return nil, nil
	}
	if a.sum.widest == accRankDecimal {
		return value.Divide(value.FromDecimal(a.sum.total()), a.count)
	}
	return a.sum.dd.double() / float64(a.count), nil
}

// accRemovableSum is MongoDB's window $sum (and, with avg, $avg): removing a value adds
// its negation, infinities and NaNs are counted apart so they can leave the window, and
// the result type follows the values currently in the window.
type accRemovableSum struct {
	avg                      bool
	sum                      accSumFolder
	posInf, negInf, nan      int64
	doubles, decimals, count int64
}

func (r *accRemovableSum) fold(v any) error   { r.update(v, 1); return nil }
func (r *accRemovableSum) unfold(v any) error { r.update(v, -1); return nil }

func (r *accRemovableSum) update(v any, q int64) {
	switch x := v.(type) {
	case int32:
		if x == math.MinInt32 && q < 0 {
			_ = r.sum.fold(int32(math.MaxInt32))
			_ = r.sum.fold(int32(1))
		} else {
			_ = r.sum.fold(x * int32(q))
		}
	case int64:
		if x == math.MinInt64 && q < 0 {
			_ = r.sum.fold(int64(math.MaxInt64))
			_ = r.sum.fold(int64(1))
		} else {
			_ = r.sum.fold(x * q)
		}
	case float64:
		r.doubles += q
		switch {
		case math.IsNaN(x):
			r.nan += q
		case math.IsInf(x, 1):
			r.posInf += q
		case math.IsInf(x, -1):
			r.negInf += q
		default:
			_ = r.sum.fold(x * float64(q))
		}
	case bson.Decimal128:
		r.decimals += q
		d := accDecimalOf(x)
		switch {
		case d.Form == apd.NaN || d.Form == apd.NaNSignaling:
			r.nan += q
		case d.Form == apd.Infinite && !d.Negative:
			r.posInf += q
		case d.Form == apd.Infinite:
			r.negInf += q
		default:
			if q < 0 {
				d.Neg(d)
			}
			_, _ = value.DecimalContext.Add(&r.sum.dec, &r.sum.dec, d)
			r.sum.widest = accRankDecimal
		}
	default:
		return
	}
	r.count += q
}

func (r *accRemovableSum) special(posInf, nan bool) any {
	if r.decimals > 0 {
		switch {
		case nan:
			return value.FromDecimal(&apd.Decimal{Form: apd.NaN})
		case posInf:
			return value.FromDecimal(&apd.Decimal{Form: apd.Infinite})
		}
		return value.FromDecimal(&apd.Decimal{Form: apd.Infinite, Negative: true})
	}
	switch {
	case nan:
		return math.NaN()
	case posInf:
		return math.Inf(1)
	}
	return math.Inf(-1)
}

// sumValue is RemovableSum::getValue: the sum narrowed to the types still in the window.
func (r *accRemovableSum) sumValue() any {
	switch {
	case r.nan > 0 || r.posInf > 0 && r.negInf > 0:
		return r.special(false, true)
	case r.posInf > 0:
		return r.special(true, false)
	case r.negInf > 0:
		return r.special(false, false)
	}
	v, _ := r.sum.result()
	switch x := v.(type) {
	case bson.Decimal128:
		if r.decimals == 0 {
			f, _ := value.ToFloat64(x)
			if r.doubles > 0 {
				return f
			}
			if n, ok := accDecimalToLong(x); ok {
				return accIntOrLong(n)
			}
			return f
		}
	case float64:
		if r.doubles == 0 && x > -accTwo63 && x < accTwo63 {
			return accIntOrLong(int64(math.Round(x)))
		}
	case int64:
		return accIntOrLong(x)
	}
	return v
}

func (r *accRemovableSum) result() (any, error) {
	if !r.avg {
		return r.sumValue(), nil
	}
	if r.count == 0 {
		return nil, nil
	}
	switch x := r.sumValue().(type) {
	case int32:
		return float64(x) / float64(r.count), nil
	case int64:
		return float64(x) / float64(r.count), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x, nil
		}
		return x / float64(r.count), nil
	case bson.Decimal128:
		if x.IsNaN() || x.IsInf() != 0 {
			return x, nil
		}
		return value.Divide(x, r.count)
	}
	return nil, nil
}

// accDecimalToLong rounds a decimal to an int64 (half to even), reporting whether it is
// in range, as Decimal128::toLong's signalling flags do.
func accDecimalToLong(x bson.Decimal128) (int64, bool) {
	d := accDecimalOf(x)
	var i apd.Decimal
	_, err := value.DecimalContext.RoundToIntegralValue(&i, d)
	if err != nil || i.Form != apd.Finite {
		return 0, false
	}
	n, err := i.Int64()
	return n, err == nil
}

func accIntOrLong(n int64) any {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

// accStdDevFolder is $stdDevPop/$stdDevSamp with Welford's online algorithm, as MongoDB
// computes it for $group (so results match to the last bit).
type accStdDevFolder struct {
	samp     bool
	count    int64
	mean, m2 float64
}

func (s *accStdDevFolder) fold(v any) error {
	x, ok := value.ToFloat64(v)
	if !ok {
		return nil
	}
	s.count++
	delta := x - s.mean
	if delta != 0 {
		s.mean += delta / float64(s.count)
		s.m2 += delta * (x - s.mean)
	}
	return nil
}

func (s *accStdDevFolder) result() (any, error) {
	n := s.count
	if s.samp {
		n--
	}
	if n <= 0 {
		return nil, nil
	}
	return math.Sqrt(s.m2 / float64(n)), nil
}

// accRemovableStdDev is MongoDB's window $stdDevPop/$stdDevSamp, which keeps compensated
// sums of the values and of the squared differences so values can leave the window.
type accRemovableStdDev struct {
	samp      bool
	count     int64
	nonFinite int64
	sum, m2   accSumFolder
}

func (s *accRemovableStdDev) fold(v any) error   { s.update(v, 1); return nil }
func (s *accRemovableStdDev) unfold(v any) error { s.update(v, -1); return nil }

func (s *accRemovableStdDev) update(v any, q int64) {
	x, ok := value.ToFloat64(v)
	if !ok {
		return
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		s.nonFinite += q
		s.count += q
		return
	}
	if s.count == 0 {
		s.count++
		_ = s.sum.fold(v)
		return
	}
	if s.count+q == 0 {
		*s = accRemovableStdDev{samp: s.samp}
		return
	}
	total, _ := s.sum.result()
	t, _ := value.ToFloat64(total)
	d := float64(s.count)*x - t
	s.count += q
	_ = s.sum.fold(x * float64(q))
	_ = s.m2.fold(d * d * float64(q) / (float64(s.count) * float64(s.count-q)))
}

func (s *accRemovableStdDev) result() (any, error) {
	if s.nonFinite > 0 {
		return math.NaN(), nil
	}
	n := s.count
	if s.samp {
		n--
	}
	if n <= 0 {
		return nil, nil
	}
	total, _ := s.m2.result()
	sq, _ := value.ToFloat64(total)
	if sq < 0 || !s.samp && s.count == 1 {
		// Rounding can leave a tiny negative sum of squares; MongoDB then answers 0.
		s.m2 = accSumFolder{}
		return int32(0), nil
	}
	return math.Sqrt(sq / float64(n)), nil
}
