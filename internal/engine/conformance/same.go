package conformance

import (
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Same reports whether two values are identical as BSON: the same types throughout
// (int32 1 is not double 1.0), the same keys in the same order, equal values (NaN is
// the same as NaN). A nil bson.A and an empty one are the same.
func Same(a, b any) bool {
	if value.TypeOf(a) != value.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case bson.D:
		y := b.(bson.D)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !Same(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A:
		y := b.(bson.A)
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Same(x[i], y[i]) {
				return false
			}
		}
		return true
	case bson.Decimal128:
		// Decimals with the same value but different exponents (1.0 vs 1.00) differ.
		return x == b.(bson.Decimal128)
	}
	return value.Compare(a, b) == 0
}
