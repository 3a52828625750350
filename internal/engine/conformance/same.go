package conformance

import (
	"fmt"
	"math"

	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Same reports whether two values are identical as BSON: the same types throughout
// (int32 1 is not double 1.0), the same keys in the same order, doubles with the same
// sign of zero (NaN is the same as NaN), decimals with the same digits and exponent
// (1.0 is not 1.00).
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
	case float64:
		y := b.(float64)
		return x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y)
	case bson.Decimal128:
		return x.String() == b.(bson.Decimal128).String()
	}
	return value.Compare(a, b) == 0
}

// Show renders a value as canonical extended JSON for failure messages.
func Show(v any) string {
	if value.IsMissing(v) {
		return "<missing>"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}
