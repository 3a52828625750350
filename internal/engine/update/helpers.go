package update

import (
	"bytes"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// binaryEqual reports whether a and b are the same BSON value: same types and same bytes,
// so 1 and 1.0 differ, as do documents with the same fields in another order. It is
// mongod's test for an update that leaves a value as it was.
func binaryEqual(a, b any) bool {
	switch x := a.(type) {
	case nil, bson.Null:
		switch b.(type) {
		case nil, bson.Null:
			return true
		}
		return false
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case bson.Decimal128:
		y, ok := b.(bson.Decimal128)
		if !ok {
			return false
		}
		xh, xl := x.GetBytes()
		yh, yl := y.GetBytes()
		return xh == yh && xl == yl
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !binaryEqual(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !binaryEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case bson.Binary:
		y, ok := b.(bson.Binary)
		return ok && x.Subtype == y.Subtype && bytes.Equal(x.Data, y.Data)
	case bson.CodeWithScope:
		y, ok := b.(bson.CodeWithScope)
		return ok && x.Code == y.Code && binaryEqual(x.Scope, y.Scope)
	case bson.DBPointer:
		y, ok := b.(bson.DBPointer)
		return ok && x.DB == y.DB && x.Pointer == y.Pointer
	case string, int32, int64, bool, bson.ObjectID, bson.DateTime, bson.Timestamp, bson.Regex,
		bson.MinKey, bson.MaxKey, bson.Undefined, bson.JavaScript, bson.Symbol:
		return a == b
	}
	return false
}
