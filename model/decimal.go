package model

import (
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Decimal128 (IEEE 754-2008, binary integer significand) layout used below: sign bit 63
// of the high word; for finite values with the usual form, a 14-bit exponent biased by
// 6176 in bits 49–62 and a 113-bit coefficient in the rest.
const (
	decBias     = 6176
	decMaxExp   = 6111
	decMinExp   = -6176
	decSign     = uint64(1) << 63
	decInfHigh  = uint64(0x7800000000000000)
	decNaNHigh  = uint64(0x7C00000000000000)
	decCoeffTop = uint64(1)<<49 - 1
)

func decimalFromInt(x int64) bson.Decimal128 {
	h := uint64(decBias) << 49
	if x < 0 {
		return bson.NewDecimal128(h|decSign, uint64(-x)) // -MinInt64 wraps to its magnitude
	}
	return bson.NewDecimal128(h, uint64(x))
}

// decimalFromFloat converts through the shortest decimal text that reads back as f, which
// is the number a person wrote.
func decimalFromFloat(f float64) bson.Decimal128 {
	switch {
	case math.IsNaN(f):
		return bson.NewDecimal128(decNaNHigh, 0)
	case math.IsInf(f, 1):
		return bson.NewDecimal128(decInfHigh, 0)
	case math.IsInf(f, -1):
		return bson.NewDecimal128(decInfHigh|decSign, 0)
	}
	d, err := bson.ParseDecimal128(strconv.FormatFloat(f, 'g', -1, 64))
	if err != nil { // every finite float64 fits a decimal128; keep a defined result anyway
		return bson.NewDecimal128(decNaNHigh, 0)
	}
	return d
}

// decimal128ToAPD converts d into out.
func decimal128ToAPD(d bson.Decimal128, out *apd.Decimal) error {
	h, l := d.GetBytes()
	neg := h&decSign != 0
	switch h >> 58 & 0x1f {
	case 0x1f:
		out.Set(&apd.Decimal{Form: apd.NaN})
		return nil
	case 0x1e:
		out.Set(&apd.Decimal{Form: apd.Infinite, Negative: neg})
		return nil
	}
	var exp int64
	if h>>61&3 == 3 { // the second form encodes coefficients above the maximum: zero
		exp = int64(h>>47&(1<<14-1)) - decBias
		h, l = 0, 0
	} else {
		exp = int64(h>>49&(1<<14-1)) - decBias
		h &= decCoeffTop
	}
	out.Form = apd.Finite
	out.Negative = neg
	out.Exponent = int32(exp)
	if h == 0 {
		out.Coeff.SetUint64(l)
	} else {
		var bi big.Int
		bi.SetUint64(h)
		bi.Lsh(&bi, 64)
		bi.Or(&bi, new(big.Int).SetUint64(l))
		out.Coeff.SetMathBigInt(&bi)
	}
	return nil
}

// apdToDecimal128 converts d exactly, or fails when it does not fit 34 digits and the
// decimal128 exponent range.
func apdToDecimal128(d *apd.Decimal) (bson.Decimal128, error) {
	var sign uint64
	if d.Negative {
		sign = decSign
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return bson.NewDecimal128(decNaNHigh, 0), nil
	case apd.Infinite:
		return bson.NewDecimal128(decInfHigh|sign, 0), nil
	}
	exp := int64(d.Exponent)
	if d.Coeff.IsUint64() && exp >= decMinExp && exp <= decMaxExp {
		return bson.NewDecimal128(sign|uint64(exp+decBias)<<49, d.Coeff.Uint64()), nil
	}
	bi := d.Coeff.MathBigInt()
	bi.Abs(bi)
	r, ok := bson.ParseDecimal128FromBigInt(bi, int(exp))
	if !ok {
		return bson.Decimal128{}, &fault{msg: fmt.Sprintf("decimal %s does not fit a decimal128", d.String())}
	}
	h, l := r.GetBytes()
	return bson.NewDecimal128(h|sign, l), nil
}

// decimalDigits returns Django's digit counts of a finite decimal: the total digits
// and the digits after the decimal point.
func decimalDigits(d *apd.Decimal) (digits, decimals int64) {
	n := d.NumDigits()
	if d.Coeff.Sign() == 0 {
		n = 1
	}
	exp := int64(d.Exponent)
	if exp >= 0 {
		if d.Coeff.Sign() == 0 {
			return 1, 0
		}
		return n + exp, 0
	}
	if -exp > n {
		return -exp, -exp
	}
	return n, -exp
}
