package expr

// Transcendental functions on decimals for the trigonometric operators. apd has exp, ln and
// sqrt but no trigonometry, so these are computed with guard digits (series after argument
// reduction) and rounded to decimal128's 34 digits by the caller.

import (
	"math/big"
	"sync"

	"github.com/cockroachdb/apd/v3"
)

// decGuard is the working precision of the decimal transcendental functions.
const decGuard = 60

var (
	piMu    sync.Mutex
	piCache = map[uint32]*apd.Decimal{}
)

// decPi returns pi with at least prec significant digits.
func decPi(prec uint32) *apd.Decimal {
	if prec < decGuard {
		prec = decGuard
	}
	// Round the precision up so few variants get cached.
	prec = (prec + 63) / 64 * 64
	piMu.Lock()
	defer piMu.Unlock()
	if p, ok := piCache[prec]; ok {
		return p
	}
	// Machin's formula in fixed point: pi = 16 atan(1/5) - 4 atan(1/239).
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)+10), nil)
	pi := new(big.Int).Mul(atanInv(5, scale), big.NewInt(16))
	pi.Sub(pi, new(big.Int).Mul(atanInv(239, scale), big.NewInt(4)))
	d := new(apd.Decimal)
	d.Coeff.SetMathBigInt(pi)
	d.Exponent = -(int32(prec) + 10)
	piCache[prec] = d
	return d
}

// atanInv returns atan(1/n) scaled by scale, by its alternating series.
func atanInv(n int64, scale *big.Int) *big.Int {
	sum := new(big.Int)
	nn := big.NewInt(n * n)
	term := new(big.Int).Quo(scale, big.NewInt(n)) // scale / n^(2k+1)
	tmp := new(big.Int)
	for k := int64(0); term.Sign() != 0; k++ {
		tmp.Quo(term, big.NewInt(2*k+1))
		if k%2 == 0 {
			sum.Add(sum, tmp)
		} else {
			sum.Sub(sum, tmp)
		}
		term.Quo(term, nn)
	}
	return sum
}

// workCtx returns a context with prec digits and no traps.
func workCtx(prec uint32) *apd.Context {
	return decimalCtx(apd.RoundHalfEven).WithPrecision(prec)
}

// adjusted returns the exponent of the most significant digit of a finite d.
func adjusted(d *apd.Decimal) int64 {
	return int64(d.Exponent) + d.NumDigits() - 1
}

// decSeries sums x^start/start! ± ... with the given sign pattern: it computes
// sum over k of sign^k * x^(start+2k) / (start+2k)!, the series of sin, cos, sinh and cosh.
func decSeries(c *apd.Context, x *apd.Decimal, start int64, alternate bool) *apd.Decimal {
	x2 := new(apd.Decimal)
	_, _ = c.Mul(x2, x, x)
	term := apd.New(1, 0)
	for i := int64(1); i <= start; i++ {
		_, _ = c.Mul(term, term, x)
		_, _ = c.Quo(term, term, apd.New(i, 0))
	}
	sum := new(apd.Decimal).Set(term)
	eps := apd.New(1, -int32(c.Precision)-5)
	for n := start; ; n += 2 {
		_, _ = c.Mul(term, term, x2)
		_, _ = c.Quo(term, term, apd.New((n+1)*(n+2), 0))
		if alternate {
			term.Negative = !term.Negative
		}
		_, _ = c.Add(sum, sum, term)
		var a, s apd.Decimal
		a.Abs(term)
		s.Abs(sum)
		if term.IsZero() || a.Cmp(eps) < 0 || (!s.IsZero() && adjusted(&a) < adjusted(&s)-int64(c.Precision)-2) {
			break
		}
	}
	return sum
}

// reduceAngle returns x reduced to [-pi, pi].
func reduceAngle(x *apd.Decimal) (*apd.Decimal, *apd.Context) {
	prec := uint32(decGuard)
	if a := adjusted(x); a > 0 {
		prec += uint32(a)
	}
	c := workCtx(prec)
	pi := decPi(prec + 10)
	twoPi := new(apd.Decimal)
	_, _ = c.Mul(twoPi, pi, apd.New(2, 0))
	var q, r apd.Decimal
	_, _ = c.Quo(&q, x, twoPi)
	_, _ = c.RoundToIntegralValue(&q, &q)
	_, _ = c.Mul(&r, &q, twoPi)
	_, _ = c.Sub(&r, x, &r)
	return &r, workCtx(decGuard)
}

func decSin(x *apd.Decimal) *apd.Decimal {
	r, c := reduceAngle(x)
	return decSeries(c, r, 1, true)
}

func decCos(x *apd.Decimal) *apd.Decimal {
	r, c := reduceAngle(x)
	return decSeries(c, r, 0, true)
}

func decTan(x *apd.Decimal) *apd.Decimal {
	r, c := reduceAngle(x)
	s := decSeries(c, r, 1, true)
	co := decSeries(c, r, 0, true)
	out := new(apd.Decimal)
	_, _ = c.Quo(out, s, co)
	return out
}

// decAtan computes atan(x) for a finite or infinite x.
func decAtan(x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	pi := decPi(decGuard + 10)
	halfPi := new(apd.Decimal)
	_, _ = c.Quo(halfPi, pi, apd.New(2, 0))
	if x.Form == apd.Infinite {
		halfPi.Negative = x.Negative
		return halfPi
	}
	neg := x.Negative
	y := new(apd.Decimal).Abs(x)
	invert := y.Cmp(apd.New(1, 0)) > 0
	if invert {
		_, _ = c.Quo(y, apd.New(1, 0), y)
	}
	// Halve the angle twice: atan(y) = 2 atan(y / (1 + sqrt(1 + y^2))).
	doublings := int64(0)
	for i := 0; i < 2; i++ {
		var t apd.Decimal
		_, _ = c.Mul(&t, y, y)
		_, _ = c.Add(&t, &t, apd.New(1, 0))
		_, _ = c.Sqrt(&t, &t)
		_, _ = c.Add(&t, &t, apd.New(1, 0))
		_, _ = c.Quo(y, y, &t)
		doublings++
	}
	// atan(y) = y - y^3/3 + y^5/5 - ...
	y2 := new(apd.Decimal)
	_, _ = c.Mul(y2, y, y)
	pow := new(apd.Decimal).Set(y)
	sum := new(apd.Decimal).Set(y)
	for k := int64(1); k < 2000; k++ {
		_, _ = c.Mul(pow, pow, y2)
		pow.Negative = !pow.Negative
		var t apd.Decimal
		_, _ = c.Quo(&t, pow, apd.New(2*k+1, 0))
		if t.IsZero() || adjusted(&t) < adjusted(sum)-int64(c.Precision)-2 {
			break
		}
		_, _ = c.Add(sum, sum, &t)
	}
	_, _ = c.Mul(sum, sum, apd.New(1<<doublings, 0))
	if invert {
		_, _ = c.Sub(sum, halfPi, sum)
	}
	sum.Negative = neg != sum.Negative
	return sum
}

// decAsin computes asin(x) for |x| <= 1.
func decAsin(x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	one := apd.New(1, 0)
	var a apd.Decimal
	a.Abs(x)
	if a.Cmp(one) == 0 {
		pi := decPi(decGuard + 10)
		out := new(apd.Decimal)
		_, _ = c.Quo(out, pi, apd.New(2, 0))
		out.Negative = x.Negative
		return out
	}
	var t apd.Decimal
	_, _ = c.Mul(&t, x, x)
	_, _ = c.Sub(&t, one, &t)
	_, _ = c.Sqrt(&t, &t)
	_, _ = c.Quo(&t, x, &t)
	return decAtan(&t)
}

// decAcos computes acos(x) = pi/2 - asin(x) for |x| <= 1.
func decAcos(x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	out := new(apd.Decimal)
	_, _ = c.Quo(out, decPi(decGuard+10), apd.New(2, 0))
	_, _ = c.Sub(out, out, decAsin(x))
	return out
}

// decAtan2 computes the angle of the point (x, y).
func decAtan2(y, x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	pi := decPi(decGuard + 10)
	if y.Form == apd.NaN || x.Form == apd.NaN {
		return decNaN()
	}
	if x.IsZero() && x.Form == apd.Finite {
		switch {
		case y.Form == apd.Finite && y.IsZero():
			if x.Negative {
				out := new(apd.Decimal).Set(pi)
				out.Negative = y.Negative
				return out
			}
			return new(apd.Decimal).Set(y)
		default:
			out := new(apd.Decimal)
			_, _ = c.Quo(out, pi, apd.New(2, 0))
			out.Negative = y.Negative
			return out
		}
	}
	var q apd.Decimal
	_, _ = c.Quo(&q, y, x)
	at := decAtan(&q)
	if !x.Negative {
		return at
	}
	if y.Negative {
		_, _ = c.Sub(at, at, pi)
	} else {
		_, _ = c.Add(at, at, pi)
	}
	return at
}

// decSinh, decCosh and decTanh use the exponential, or the series for small arguments
// where the exponentials would cancel.
func decSinh(x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	if x.Form == apd.Infinite {
		return new(apd.Decimal).Set(x)
	}
	if adjusted(x) < 0 {
		return decSeries(c, x, 1, false)
	}
	return expCombination(c, x, true)
}

func decCosh(x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	if x.Form == apd.Infinite {
		return &apd.Decimal{Form: apd.Infinite}
	}
	return expCombination(c, x, false)
}

// expCombination returns (e^x - e^-x)/2 (minus) or (e^x + e^-x)/2.
func expCombination(c *apd.Context, x *apd.Decimal, minus bool) *apd.Decimal {
	var e, inv apd.Decimal
	_, _ = c.Exp(&e, x)
	if e.Form == apd.Infinite || e.IsZero() {
		out := &apd.Decimal{Form: apd.Infinite}
		out.Negative = minus && x.Negative
		return out
	}
	_, _ = c.Quo(&inv, apd.New(1, 0), &e)
	out := new(apd.Decimal)
	if minus {
		_, _ = c.Sub(out, &e, &inv)
	} else {
		_, _ = c.Add(out, &e, &inv)
	}
	_, _ = c.Quo(out, out, apd.New(2, 0))
	return out
}

func decTanh(x *apd.Decimal) *apd.Decimal {
	c := workCtx(decGuard)
	if x.Form == apd.Infinite || adjusted(x) > 3 {
		// |tanh| rounds to 1 but is below it: an inexact result keeps all 34 digits.
		out := new(apd.Decimal)
		out.Coeff.SetMathBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(33), nil))
		out.Exponent = -33
		out.Negative = x.Negative
		return out
	}
	s := decSinh(x)
	co := decCosh(x)
	out := new(apd.Decimal)
	_, _ = c.Quo(out, s, co)
	return out
}

// decAsinh computes ln(x + sqrt(x^2 + 1)), with extra digits for small x.
func decAsinh(x *apd.Decimal) *apd.Decimal {
	if x.Form == apd.Infinite {
		return new(apd.Decimal).Set(x)
	}
	prec := uint32(decGuard)
	if a := adjusted(x); a < 0 {
		prec += uint32(-2 * a)
	}
	c := workCtx(prec)
	var a, t apd.Decimal
	a.Abs(x)
	_, _ = c.Mul(&t, &a, &a)
	_, _ = c.Add(&t, &t, apd.New(1, 0))
	_, _ = c.Sqrt(&t, &t)
	_, _ = c.Add(&t, &t, &a)
	out := new(apd.Decimal)
	_, _ = c.Ln(out, &t)
	out.Negative = x.Negative && !out.IsZero()
	return out
}

// decAcosh computes ln(x + sqrt(x^2 - 1)) for x >= 1.
func decAcosh(x *apd.Decimal) *apd.Decimal {
	if x.Form == apd.Infinite {
		return new(apd.Decimal).Set(x)
	}
	c := workCtx(decGuard * 2)
	var t apd.Decimal
	_, _ = c.Mul(&t, x, x)
	_, _ = c.Sub(&t, &t, apd.New(1, 0))
	_, _ = c.Sqrt(&t, &t)
	_, _ = c.Add(&t, &t, x)
	out := new(apd.Decimal)
	_, _ = c.Ln(out, &t)
	return out
}

// decAtanh computes ln((1+x)/(1-x))/2 for |x| <= 1.
func decAtanh(x *apd.Decimal) *apd.Decimal {
	one := apd.New(1, 0)
	var a apd.Decimal
	a.Abs(x)
	if a.Cmp(one) == 0 {
		return &apd.Decimal{Form: apd.Infinite, Negative: x.Negative}
	}
	prec := uint32(decGuard)
	if adj := adjusted(x); adj < 0 {
		prec += uint32(-2 * adj)
	}
	c := workCtx(prec)
	var num, den apd.Decimal
	_, _ = c.Add(&num, one, x)
	_, _ = c.Sub(&den, one, x)
	_, _ = c.Quo(&num, &num, &den)
	out := new(apd.Decimal)
	_, _ = c.Ln(out, &num)
	_, _ = c.Quo(out, out, apd.New(2, 0))
	return out
}
