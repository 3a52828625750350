package value

import (
	"bytes"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Compare orders two values by MongoDB's BSON comparison order: first by canonical type
// bracket (MinKey, null, numbers, strings, objects, arrays, binData, ObjectId, bool, date,
// timestamp, regex, …, MaxKey), then within the bracket. Numbers of different types
// compare by value; strings compare by bytes (no collation); objects compare element by
// element (type, then key, then value); arrays element by element; binData by length, then
// subtype, then bytes. It returns -1, 0 or +1.
func Compare(a, b any) int {
	ca, cb := canonical(a), canonical(b)
	if ca != cb {
		if ca < cb {
			return -1
		}
		return 1
	}
	switch x := a.(type) {
	case nil, bson.Null, bson.Undefined, missingType, bson.MinKey, bson.MaxKey:
		return 0
	case float64, int32, int64, bson.Decimal128:
		return compareNumbers(a, b)
	case string:
		return strings.Compare(x, stringOf(b))
	case bson.Symbol:
		return strings.Compare(string(x), stringOf(b))
	case bson.D:
		return compareDocs(x, b.(bson.D))
	case bson.A:
		return compareArrays(x, b.(bson.A))
	case bson.Binary:
		y := b.(bson.Binary)
		if c := cmpInt(int64(len(x.Data)), int64(len(y.Data))); c != 0 {
			return c
		}
		if c := cmpInt(int64(x.Subtype), int64(y.Subtype)); c != 0 {
			return c
		}
		return bytes.Compare(x.Data, y.Data)
	case bson.ObjectID:
		y := b.(bson.ObjectID)
		return bytes.Compare(x[:], y[:])
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case bson.DateTime:
		return cmpInt(int64(x), int64(b.(bson.DateTime)))
	case bson.Timestamp:
		return x.Compare(b.(bson.Timestamp))
	case bson.Regex:
		y := b.(bson.Regex)
		if c := strings.Compare(x.Pattern, y.Pattern); c != 0 {
			return c
		}
		return strings.Compare(x.Options, y.Options)
	case bson.DBPointer:
		y := b.(bson.DBPointer)
		if c := cmpInt(int64(len(x.DB)), int64(len(y.DB))); c != 0 {
			return c
		}
		if c := strings.Compare(x.DB, y.DB); c != 0 {
			return c
		}
		return bytes.Compare(x.Pointer[:], y.Pointer[:])
	case bson.JavaScript:
		return strings.Compare(string(x), string(b.(bson.JavaScript)))
	case bson.CodeWithScope:
		y := b.(bson.CodeWithScope)
		if c := strings.Compare(string(x.Code), string(y.Code)); c != 0 {
			return c
		}
		return Compare(x.Scope, y.Scope)
	}
	return 0
}

// Equal reports whether a and b are equal under Compare (1 equals 1.0 and
// NumberDecimal("1"); objects must have the same keys in the same order).
func Equal(a, b any) bool { return Compare(a, b) == 0 }

func stringOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bson.Symbol:
		return string(x)
	}
	return ""
}

func compareDocs(a, b bson.D) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := canonical(a[i].Value), canonical(b[i].Value)
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a[i].Key, b[i].Key); c != 0 {
			return c
		}
		if c := Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return cmpInt(int64(len(a)), int64(len(b)))
}

func compareArrays(a, b bson.A) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmpInt(int64(len(a)), int64(len(b)))
}
