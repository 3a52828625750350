package value

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// DecimalContext is the arithmetic context of IEEE 754 decimal128: 34 significant digits,
// half-even rounding and decimal128's exponent range.
var DecimalContext = func() *apd.Context {
	c := apd.BaseContext.WithPrecision(34)
	c.MaxExponent = 6144
	c.MinExponent = -6143
	c.Rounding = apd.RoundHalfEven
	c.Traps = 0 // overflow, division by zero and the like give Inf/NaN, as in MongoDB
	return c
}()

// numeric ranks: the result of arithmetic has the widest operand's rank.
const (
	rankInt32 = iota + 1
	rankInt64
	rankDouble
	rankDecimal
)

func rank(v any) int {
	switch v.(type) {
	case int32:
		return rankInt32
	case int64:
		return rankInt64
	case float64:
		return rankDouble
	case bson.Decimal128:
		return rankDecimal
	}
	return 0
}

// ToFloat64 converts a number to float64 (decimals and large longs may round).
func ToFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case bson.Decimal128:
		d, err := ToDecimal(x)
		if err != nil {
			return 0, false
		}
		f, err := d.Float64()
		if err != nil {
			// Float64 reports out-of-range values as errors; its result is still ±Inf or 0.
			return f, true
		}
		return f, true
	}
	return 0, false
}

// ToInt64 converts a number to int64 when it holds an integral value in range.
func ToInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		if x != math.Trunc(x) || x < -9.223372036854775808e18 || x >= 9.223372036854775808e18 {
			return 0, false
		}
		return int64(x), true
	case bson.Decimal128:
		d, err := ToDecimal(x)
		if err != nil {
			return 0, false
		}
		var i apd.Decimal
		if _, err := DecimalContext.RoundToIntegralExact(&i, d); err != nil || i.Cmp(d) != 0 {
			return 0, false
		}
		n, err := i.Int64()
		return n, err == nil
	}
	return 0, false
}

// ToDecimal converts a number to an apd decimal. Doubles convert through their value
// rounded to 34 significant digits, which is how MongoDB compares doubles with decimals.
func ToDecimal(v any) (*apd.Decimal, error) {
	switch x := v.(type) {
	case int32:
		return apd.New(int64(x), 0), nil
	case int64:
		return apd.New(x, 0), nil
	case float64:
		d := new(apd.Decimal)
		switch {
		case math.IsNaN(x):
			d.Form = apd.NaN
		case math.IsInf(x, 1):
			d.Form = apd.Infinite
		case math.IsInf(x, -1):
			d.Form, d.Negative = apd.Infinite, true
		default:
			if _, _, err := d.SetString(strconv.FormatFloat(x, 'e', 33, 64)); err != nil {
				return nil, err
			}
			d.Reduce(d)
		}
		return d, nil
	case bson.Decimal128:
		d := new(apd.Decimal)
		hi, _ := x.GetBytes()
		negative := hi>>63 == 1
		switch {
		case x.IsNaN():
			d.Form = apd.NaN
			return d, nil
		case x.IsInf() != 0:
			d.Form, d.Negative = apd.Infinite, negative
			return d, nil
		}
		coeff, exp, err := x.BigInt()
		if err != nil {
			return nil, err
		}
		d.Coeff.SetMathBigInt(coeff)
		d.Negative = coeff.Sign() < 0 || (coeff.Sign() == 0 && negative)
		d.Coeff.Abs(&d.Coeff)
		d.Exponent = int32(exp)
		return d, nil
	}
	return nil, fmt.Errorf("value: %s is not a number", TypeName(v))
}

// FromDecimal converts an apd decimal to decimal128, rounding to 34 digits.
func FromDecimal(d *apd.Decimal) bson.Decimal128 {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return decimalNaN
	case apd.Infinite:
		if d.Negative {
			return decimalNegInf
		}
		return decimalPosInf
	}
	var r apd.Decimal
	_, _ = DecimalContext.Round(&r, d)
	if r.Form == apd.Infinite {
		return FromDecimal(&r)
	}
	out, err := bson.ParseDecimal128(r.Text('E'))
	if err != nil {
		// Out-of-range exponents after rounding clamp to zero or infinity.
		if r.Exponent < 0 {
			return decimalZero
		}
		if r.Negative {
			return decimalNegInf
		}
		return decimalPosInf
	}
	return out
}

var (
	decimalNaN    = mustDecimal("NaN")
	decimalPosInf = mustDecimal("Infinity")
	decimalNegInf = mustDecimal("-Infinity")
	decimalZero   = mustDecimal("0")
)

func mustDecimal(s string) bson.Decimal128 {
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		panic(err)
	}
	return d
}

// ErrNotNumber is returned by arithmetic on a non-numeric operand.
var ErrNotNumber = errors.New("value: operand is not a number")

// Add returns a+b with MongoDB's type rules: int32 overflow widens to int64, int64
// overflow to double, a double operand gives a double, a decimal operand gives a decimal.
func Add(a, b any) (any, error) { return arith(a, b, '+') }

// Subtract returns a-b with Add's type rules.
func Subtract(a, b any) (any, error) { return arith(a, b, '-') }

// Multiply returns a*b with Add's type rules.
func Multiply(a, b any) (any, error) { return arith(a, b, '*') }

// Divide returns a/b as a double, or a decimal when either operand is a decimal. The
// caller rejects division by zero, which MongoDB treats as an error.
func Divide(a, b any) (any, error) {
	ra, rb := rank(a), rank(b)
	if ra == 0 || rb == 0 {
		return nil, ErrNotNumber
	}
	if ra == rankDecimal || rb == rankDecimal {
		return decimalOp(a, b, '/')
	}
	fa, _ := ToFloat64(a)
	fb, _ := ToFloat64(b)
	return fa / fb, nil
}

// Mod returns the remainder of a/b (truncated division, sign of a) with Add's type rules.
// The caller rejects a zero divisor.
func Mod(a, b any) (any, error) { return arith(a, b, '%') }

func arith(a, b any, op byte) (any, error) {
	ra, rb := rank(a), rank(b)
	if ra == 0 || rb == 0 {
		return nil, ErrNotNumber
	}
	r := max(ra, rb)
	switch r {
	case rankDecimal:
		return decimalOp(a, b, op)
	case rankDouble:
		fa, _ := ToFloat64(a)
		fb, _ := ToFloat64(b)
		switch op {
		case '+':
			return fa + fb, nil
		case '-':
			return fa - fb, nil
		case '*':
			return fa * fb, nil
		default:
			return math.Mod(fa, fb), nil
		}
	}
	ia, _ := ToInt64(a)
	ib, _ := ToInt64(b)
	var res int64
	overflow := false
	switch op {
	case '+':
		res = ia + ib
		overflow = (ia >= 0) == (ib >= 0) && (res >= 0) != (ia >= 0)
	case '-':
		res = ia - ib
		overflow = (ia >= 0) != (ib >= 0) && (res >= 0) != (ia >= 0)
	case '*':
		if ia != 0 && ib != 0 {
			res = ia * ib
			overflow = res/ib != ia || (ia == -1 && ib == math.MinInt64) || (ib == -1 && ia == math.MinInt64)
		}
	default:
		if ib == -1 {
			return narrow(0, r), nil
		}
		return narrow(ia%ib, r), nil
	}
	if overflow {
		fa, fb := float64(ia), float64(ib)
		switch op {
		case '+':
			return fa + fb, nil
		case '-':
			return fa - fb, nil
		default:
			return fa * fb, nil
		}
	}
	if r == rankInt32 && res >= math.MinInt32 && res <= math.MaxInt32 {
		return int32(res), nil
	}
	return res, nil
}

func narrow(n int64, r int) any {
	if r == rankInt32 {
		return int32(n)
	}
	return n
}

func decimalOp(a, b any, op byte) (any, error) {
	da, err := ToDecimal(a)
	if err != nil {
		return nil, err
	}
	db, err := ToDecimal(b)
	if err != nil {
		return nil, err
	}
	res := new(apd.Decimal)
	switch op {
	case '+':
		_, err = DecimalContext.Add(res, da, db)
	case '-':
		_, err = DecimalContext.Sub(res, da, db)
	case '*':
		_, err = DecimalContext.Mul(res, da, db)
	case '/':
		var cond apd.Condition
		cond, err = DecimalContext.Quo(res, da, db)
		if err == nil && !cond.Inexact() && res.Form == apd.Finite {
			idealExponent(res, da.Exponent-db.Exponent)
		}
	default:
		_, err = DecimalContext.Rem(res, da, db)
	}
	if err != nil {
		return nil, err
	}
	return FromDecimal(res), nil
}

// idealExponent rewrites an exact quotient with the exponent IEEE 754 prefers
// (dividend's minus divisor's, or the nearest one the digits allow), so 1/4 is 0.25 and
// 100/1 is 100 rather than 1E+2 or 0.2500…0.
func idealExponent(d *apd.Decimal, ideal int32) {
	d.Reduce(d)
	if d.Exponent > ideal {
		var scaled apd.Decimal
		if _, err := DecimalContext.Quantize(&scaled, d, ideal); err == nil && scaled.Form == apd.Finite {
			d.Set(&scaled)
		}
	}
}

// IsNaN reports whether v is a double or decimal NaN.
func IsNaN(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x)
	case bson.Decimal128:
		return x.IsNaN()
	}
	return false
}

// compareNumbers orders two numbers of any numeric types exactly. NaN is below every
// other number and equal to itself.
func compareNumbers(a, b any) int {
	ra, rb := rank(a), rank(b)
	if ra == rankDecimal || rb == rankDecimal {
		da, errA := ToDecimal(a)
		db, errB := ToDecimal(b)
		if errA != nil || errB != nil {
			return 0
		}
		na, nb := da.Form == apd.NaN, db.Form == apd.NaN
		switch {
		case na && nb:
			return 0
		case na:
			return -1
		case nb:
			return 1
		}
		return da.Cmp(db)
	}
	if ra <= rankInt64 && rb <= rankInt64 {
		ia, _ := ToInt64(a)
		ib, _ := ToInt64(b)
		return cmpInt(ia, ib)
	}
	if ra == rankDouble && rb == rankDouble {
		return cmpFloat(a.(float64), b.(float64))
	}
	if ra == rankDouble {
		ib, _ := ToInt64(b)
		return -cmpIntFloat(ib, a.(float64))
	}
	ia, _ := ToInt64(a)
	return cmpIntFloat(ia, b.(float64))
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	na, nb := math.IsNaN(a), math.IsNaN(b)
	switch {
	case na && nb:
		return 0
	case na:
		return -1
	case nb:
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpIntFloat compares an int64 with a double without losing precision.
func cmpIntFloat(i int64, f float64) int {
	switch {
	case math.IsNaN(f):
		return 1
	case f >= 9.223372036854775808e18:
		return -1
	case f < -9.223372036854775808e18:
		return 1
	}
	t := int64(f) // |f| < 2^63, so the truncated value is exact
	if c := cmpInt(i, t); c != 0 {
		return c
	}
	frac := f - float64(t)
	switch {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}
