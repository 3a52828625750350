package expr

// Numeric helpers shared by the arithmetic, trigonometric and conversion operators. They
// follow mongod's Value coercions, which differ from the value package in one place: an
// expression that mixes a double with a decimal converts the double to a decimal of 15
// significant digits (so 0.1 becomes 0.100000000000000), not to its exact binary value.

import (
	"math"
	"math/big"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Numeric ranks, narrowest first: the result of arithmetic has the widest operand's rank.
const (
	rankNone = iota
	rankInt
	rankLong
	rankDouble
	rankDecimal
)

// numRank returns the numeric rank of v, or rankNone for a non-number.
func numRank(v any) int {
	switch v.(type) {
	case int32:
		return rankInt
	case int64:
		return rankLong
	case float64:
		return rankDouble
	case bson.Decimal128:
		return rankDecimal
	}
	return rankNone
}

// numDouble converts a number to a double (mongod's coerceToDouble).
func numDouble(v any) float64 {
	f, _ := value.ToFloat64(v)
	return f
}

// int32Of reports whether v is a number holding an integral value that fits in an int32
// (mongod's Value::integral), and that value.
func int32Of(v any) (int32, bool) {
	n, ok := int64Of(v)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int32(n), true
}

// int64Of reports whether v is a number holding an integral value that fits in an int64
// (mongod's Value::integral64Bit), and that value.
func int64Of(v any) (int64, bool) {
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
		d, err := value.ToDecimal(x)
		if err != nil {
			return 0, false
		}
		return decimalToInt64Exact(d)
	}
	return 0, false
}

// intOrLong returns n as an int32 when it fits and as an int64 otherwise (mongod's
// Value::createIntOrLong).
func intOrLong(n int64) any {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}

// decimalOf converts a number to a decimal the way mongod's coerceToDecimal does: integers
// exactly, doubles rounded to 15 significant digits.
func decimalOf(v any) *apd.Decimal {
	switch x := v.(type) {
	case int32:
		return apd.New(int64(x), 0)
	case int64:
		return apd.New(x, 0)
	case float64:
		return decimalFromDouble(x)
	case bson.Decimal128:
		d, err := value.ToDecimal(x)
		if err != nil {
			return decNaN()
		}
		return d
	}
	return decNaN()
}

// decimalFromDouble converts a double to a decimal with 15 significant digits, keeping
// trailing zeros (2.5 becomes 2.50000000000000), as mongod's Decimal128(double) does.
func decimalFromDouble(f float64) *apd.Decimal {
	d := new(apd.Decimal)
	switch {
	case math.IsNaN(f):
		d.Form = apd.NaN
	case math.IsInf(f, 0):
		d.Form, d.Negative = apd.Infinite, f < 0
	case f == 0:
		d.Negative = math.Signbit(f)
	default:
		if _, _, err := d.SetString(strconv.FormatFloat(f, 'e', 14, 64)); err != nil {
			d.Form = apd.NaN
		}
	}
	return d
}

// decimalFromDouble34 converts a double to a decimal with 34 significant digits, which is
// how $round and $trunc look at doubles.
func decimalFromDouble34(f float64) *apd.Decimal {
	d, err := value.ToDecimal(f)
	if err != nil {
		return decNaN()
	}
	return d
}

func decNaN() *apd.Decimal {
	return &apd.Decimal{Form: apd.NaN}
}

// dec128 converts an apd decimal to a BSON decimal, rounding to 34 digits.
func dec128(d *apd.Decimal) bson.Decimal128 { return value.FromDecimal(d) }

// decimalToInt64Exact converts a decimal holding an integral value in the int64 range.
func decimalToInt64Exact(d *apd.Decimal) (int64, bool) {
	if d.Form != apd.Finite {
		return 0, false
	}
	var i apd.Decimal
	if _, err := decimalCtx(apd.RoundDown).RoundToIntegralExact(&i, d); err != nil || i.Cmp(d) != 0 {
		return 0, false
	}
	n, err := i.Int64()
	return n, err == nil
}

// decimalToInt64 rounds a decimal to an integer with mode r and converts it, failing for
// NaN, infinities and values outside the int64 range.
func decimalToInt64(d *apd.Decimal, r apd.Rounder) (int64, bool) {
	if d.Form != apd.Finite {
		return 0, false
	}
	q := quantizeDecimal(d, 0, r)
	if q.Form != apd.Finite {
		return 0, false
	}
	n, err := q.Int64()
	return n, err == nil
}

// decimalToDouble converts a decimal to the nearest double.
func decimalToDouble(d *apd.Decimal) float64 {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return math.NaN()
	case apd.Infinite:
		if d.Negative {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	f, _ := d.Float64()
	return f
}

// decimalContexts holds the decimal128 context for each rounding mode the operators use.
var decimalContexts = func() map[apd.Rounder]*apd.Context {
	m := map[apd.Rounder]*apd.Context{}
	for _, r := range []apd.Rounder{apd.RoundHalfEven, apd.RoundDown, apd.RoundCeiling, apd.RoundFloor, apd.RoundHalfUp} {
		c := *value.DecimalContext
		c.Rounding = r
		m[r] = &c
	}
	return m
}()

// decimalCtx returns the decimal128 arithmetic context with rounding mode r.
func decimalCtx(r apd.Rounder) *apd.Context { return decimalContexts[r] }

var bigTen = big.NewInt(10)

// quantizeDecimal returns x rounded (with mode r) to exponent exp, as IEEE 754's quantize:
// NaN for NaN or infinite input and when the result needs more than 34 digits. It is
// written out because apd's Quantize drops directed roundings when every digit goes.
func quantizeDecimal(x *apd.Decimal, exp int32, r apd.Rounder) *apd.Decimal {
	if x.Form != apd.Finite {
		return decNaN()
	}
	coeff := x.Coeff.MathBigInt()
	out := new(apd.Decimal)
	out.Negative = x.Negative
	out.Exponent = exp
	if x.Exponent >= exp {
		shift := new(big.Int).Exp(bigTen, big.NewInt(int64(x.Exponent-exp)), nil)
		coeff.Mul(coeff, shift)
	} else {
		k := int64(exp) - int64(x.Exponent)
		if k > int64(len(coeff.String()))+1 {
			// The value is below a tenth of one unit of the result: only a directed rounding
			// away from zero keeps anything.
			nonZero := coeff.Sign() != 0
			coeff.SetInt64(0)
			if nonZero && (r == apd.RoundCeiling && !x.Negative || r == apd.RoundFloor && x.Negative) {
				coeff.SetInt64(1)
			}
		} else {
			div := new(big.Int).Exp(bigTen, big.NewInt(k), nil)
			coeff = roundQuotient(coeff, div, x.Negative, r)
		}
	}
	if len(coeff.String()) > 34 || exp > value.DecimalContext.MaxExponent || exp < value.DecimalContext.MinExponent-33 {
		return decNaN()
	}
	out.Coeff.SetMathBigInt(coeff)
	return out
}

// roundQuotient returns coeff/div rounded with mode r for a value of sign neg.
func roundQuotient(coeff, div *big.Int, neg bool, r apd.Rounder) *big.Int {
	q, rem := new(big.Int).QuoRem(coeff, div, new(big.Int))
	if rem.Sign() == 0 {
		return q
	}
	inc := false
	switch r {
	case apd.RoundHalfEven, apd.RoundHalfUp:
		c := new(big.Int).Lsh(rem, 1).Cmp(div)
		inc = c > 0 || c == 0 && (r == apd.RoundHalfUp || q.Bit(0) == 1)
	case apd.RoundCeiling:
		inc = !neg
	case apd.RoundFloor:
		inc = neg
	}
	if inc {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// decimalZero reports whether d is a (signed) zero.
func decimalZero(d *apd.Decimal) bool { return d.Form == apd.Finite && d.IsZero() }

// decimalCmpInt compares a finite or infinite decimal with an integer; NaN compares as
// unordered (ok false).
func decimalCmpInt(d *apd.Decimal, n int64) (int, bool) {
	if d.Form == apd.NaN || d.Form == apd.NaNSignaling {
		return 0, false
	}
	return d.Cmp(apd.New(n, 0)), true
}
