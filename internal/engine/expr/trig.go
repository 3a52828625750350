package expr

// Trigonometric operators: $sin $cos $tan $asin $acos $atan $atan2 $sinh $cosh $tanh
// $asinh $acosh $atanh $degreesToRadians $radiansToDegrees. Integers and doubles give
// doubles; a decimal operand gives a decimal. Inputs outside a function's domain fail with
// 50989; NaN passes through.

import (
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// trigBound describes a function's domain: lo..hi, inclusive or exclusive.
type trigBound struct {
	lo, hi    float64
	inclusive bool
}

var (
	anyFinite = &trigBound{lo: math.Inf(-1), hi: math.Inf(1)}
	unitRange = &trigBound{lo: -1, hi: 1, inclusive: true}
	atLeast1  = &trigBound{lo: 1, hi: math.Inf(1), inclusive: true}
)

func init() {
	registerTrig("$sin", anyFinite, math.Sin, decSin)
	registerTrig("$cos", anyFinite, math.Cos, decCos)
	registerTrig("$tan", anyFinite, math.Tan, decTan)
	registerTrig("$asin", unitRange, math.Asin, decAsin)
	registerTrig("$acos", unitRange, math.Acos, decAcos)
	registerTrig("$atanh", unitRange, math.Atanh, decAtanh)
	registerTrig("$acosh", atLeast1, math.Acosh, decAcosh)
	registerTrig("$atan", nil, math.Atan, decAtan)
	registerTrig("$asinh", nil, math.Asinh, decAsinh)
	registerTrig("$sinh", nil, math.Sinh, decSinh)
	registerTrig("$cosh", nil, math.Cosh, decCosh)
	registerTrig("$tanh", nil, math.Tanh, decTanh)
	register("$atan2", parseAtan2)
	registerSingleNumeric("$degreesToRadians", func(v any) (any, error) { return scaleAngle(v, piOver180Dec, piOver180) })
	registerSingleNumeric("$radiansToDegrees", func(v any) (any, error) { return scaleAngle(v, d180OverPiDec, d180OverPi) })
}

// The conversion factors mongod uses: the double ones are computed from pi rounded to a
// double, the decimal ones are pi/180 and 180/pi rounded to 34 digits.
var (
	doublePi      = 3.141592653589793
	piOver180     = doublePi / 180.0
	d180OverPi    = 180.0 / doublePi
	piOver180Dec  = angleFactor(false)
	d180OverPiDec = angleFactor(true)
)

func angleFactor(inverse bool) *apd.Decimal {
	c := workCtx(decGuard)
	out := new(apd.Decimal)
	if inverse {
		_, _ = c.Quo(out, apd.New(180, 0), decPi(decGuard+10))
	} else {
		_, _ = c.Quo(out, decPi(decGuard+10), apd.New(180, 0))
	}
	r := new(apd.Decimal)
	_, _ = decimalCtx(apd.RoundHalfEven).Round(r, out)
	return r
}

func scaleAngle(v any, dec *apd.Decimal, f float64) (any, error) {
	if x, ok := v.(bson.Decimal128); ok {
		out := new(apd.Decimal)
		_, _ = decimalCtx(apd.RoundHalfEven).Mul(out, decimalOf(x), dec)
		return dec128(out), nil
	}
	return numDouble(v) * f, nil
}

func registerTrig(name string, bound *trigBound, f func(float64) float64, d func(*apd.Decimal) *apd.Decimal) {
	registerSingleNumeric(name, func(v any) (any, error) {
		if x, ok := v.(bson.Decimal128); ok {
			if x.IsNaN() {
				return x, nil
			}
			in := decimalOf(x)
			if bound != nil && !bound.containsDecimal(in) {
				return nil, bound.err(name, x.String())
			}
			if decimalZero(in) {
				// Exact at zero: odd functions keep the (signed) zero, cos and cosh give 1.
				switch name {
				case "$cos", "$cosh":
					return dec128(apd.New(1, 0)), nil
				case "$sin", "$tan", "$asin", "$atan", "$sinh", "$tanh", "$asinh", "$atanh":
					return x, nil
				}
			}
			return dec128(d(in)), nil
		}
		x := numDouble(v)
		if bound != nil {
			if math.IsNaN(x) {
				return v, nil
			}
			if !bound.contains(x) {
				return nil, bound.err(name, formatDouble(x))
			}
		}
		return f(x), nil
	})
}

func (b *trigBound) contains(x float64) bool {
	if b.inclusive {
		return x >= b.lo && x <= b.hi
	}
	return x > b.lo && x < b.hi
}

func (b *trigBound) containsDecimal(x *apd.Decimal) bool {
	if x.Form == apd.Infinite {
		if b.inclusive {
			return x.Negative && math.IsInf(b.lo, -1) || !x.Negative && math.IsInf(b.hi, 1)
		}
		return false
	}
	lo, hi := math.IsInf(b.lo, -1), math.IsInf(b.hi, 1)
	cl := 1
	if !lo {
		cl = x.Cmp(apd.New(int64(b.lo), 0))
	}
	ch := -1
	if !hi {
		ch = x.Cmp(apd.New(int64(b.hi), 0))
	}
	if b.inclusive {
		return cl >= 0 && ch <= 0
	}
	return cl > 0 && ch < 0
}

func (b *trigBound) err(name, input string) error {
	open, closing := "(", ")"
	if b.inclusive {
		open, closing = "[", "]"
	}
	return mongoerr.Newf(50989, "cannot apply %s to %s, value must in %s%s,%s%s", name, input, open, formatDouble(b.lo), formatDouble(b.hi), closing)
}

// atan2Node is $atan2: each operand is checked as soon as it is evaluated.
type atan2Node struct{ y, x node }

func parseAtan2(args any, sc *scope) (node, error) {
	ops, err := fixedOperands("$atan2", 2, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(&atan2Node{ops[0], ops[1]}, ops...)
}

func (n *atan2Node) eval(c *ctx) (any, error) {
	y, err := n.y.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(y) {
		return nil, nil
	}
	if numRank(y) == rankNone {
		return nil, mongoerr.Newf(51044, "$atan2 only supports numeric types, not %s", typeName(y))
	}
	x, err := n.x.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(x) {
		return nil, nil
	}
	if numRank(x) == rankNone {
		return nil, mongoerr.Newf(51045, "$atan2 only supports numeric types, not %s", typeName(x))
	}
	if numRank(y) == rankDecimal || numRank(x) == rankDecimal {
		return dec128(decAtan2(decimalOf(y), decimalOf(x))), nil
	}
	return math.Atan2(numDouble(y), numDouble(x)), nil
}
