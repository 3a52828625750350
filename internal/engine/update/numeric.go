package update

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The arithmetic of $inc, $mul and $bit follows mongod's "safe numbers", which differ from
// aggregation arithmetic: int32 results that overflow widen to int64, but int64 overflow
// is an error rather than a double; a decimal operand makes the result a decimal, with a
// double operand first rounded to 15 significant digits.

// numRank orders the numeric types: the result has the widest operand's type.
func numRank(v any) int {
	switch v.(type) {
	case int32:
		return 1
	case int64:
		return 2
	case float64:
		return 3
	case bson.Decimal128:
		return 4
	}
	return 0
}

// safeArith returns a+b (mul false) or a*b (mul true) for two numbers; ok is false when
// an int64 result overflows.
func safeArith(a, b any, mul bool) (res any, ok bool) {
	ra, rb := numRank(a), numRank(b)
	switch max(ra, rb) {
	case 1:
		x, y := int64(a.(int32)), int64(b.(int32))
		r := x + y
		if mul {
			r = x * y
		}
		if r >= math.MinInt32 && r <= math.MaxInt32 {
			return int32(r), true
		}
		return r, true
	case 2:
		x, _ := value.ToInt64(a)
		y, _ := value.ToInt64(b)
		if mul {
			return mulInt64(x, y)
		}
		return addInt64(x, y)
	case 3:
		x, _ := value.ToFloat64(a)
		y, _ := value.ToFloat64(b)
		if mul {
			return x * y, true
		}
		return x + y, true
	}
	x, y := safeDecimal(a), safeDecimal(b)
	var r apd.Decimal
	if mul {
		_, _ = value.DecimalContext.Mul(&r, x, y)
	} else {
		_, _ = value.DecimalContext.Add(&r, x, y)
	}
	return value.FromDecimal(&r), true
}

func addInt64(x, y int64) (any, bool) {
	if (y > 0 && x > math.MaxInt64-y) || (y < 0 && x < math.MinInt64-y) {
		return nil, false
	}
	return x + y, true
}

func mulInt64(x, y int64) (any, bool) {
	if x == 0 || y == 0 {
		return int64(0), true
	}
	r := x * y
	if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
		return nil, false
	}
	return r, true
}

// safeDecimal converts a number to a decimal as mongod's safe numbers do: doubles keep 15
// significant digits.
func safeDecimal(v any) *apd.Decimal {
	if f, ok := v.(float64); ok && f != 0 && !math.IsInf(f, 0) && !math.IsNaN(f) {
		d, _, err := apd.NewFromString(strconv.FormatFloat(f, 'e', 14, 64))
		if err == nil {
			return d
		}
	}
	d, err := value.ToDecimal(v)
	if err != nil {
		return apd.New(0, 0)
	}
	return d
}

// identicalNumbers reports whether two numbers have the same type and value, which makes
// an arithmetic update a no-op (decimals compare by value, doubles with ==).
func identicalNumbers(a, b any) bool {
	switch x := a.(type) {
	case int32:
		y, ok := b.(int32)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bson.Decimal128:
		y, ok := b.(bson.Decimal128)
		if !ok || x.IsNaN() || y.IsNaN() {
			return false
		}
		return value.Compare(x, y) == 0
	}
	return false
}

// bitOp applies one of and/or/xor to two integers (int32 or int64; an int64 operand makes
// the result int64).
func bitOp(op byte, a, b any) any {
	if x, ok := a.(int32); ok {
		if y, ok := b.(int32); ok {
			switch op {
			case '&':
				return x & y
			case '|':
				return x | y
			}
			return x ^ y
		}
	}
	x, _ := value.ToInt64(a)
	y, _ := value.ToInt64(b)
	switch op {
	case '&':
		return x & y
	case '|':
		return x | y
	}
	return x ^ y
}

// integerArg parses an argument that must be an integral number (an int, a long, or an
// integral double or decimal), as mongod's parseIntegerElementToLong does.
func integerArg(v any) (int64, bool) {
	if !value.IsNumber(v) {
		return 0, false
	}
	return value.ToInt64(v)
}
