package value

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// missingType is the type of Missing.
type missingType struct{}

// Missing stands for an absent field during evaluation. It must never be stored in a
// document: setting a field to Missing means removing it.
var Missing any = missingType{}

// IsMissing reports whether v is the Missing sentinel.
func IsMissing(v any) bool {
	_, ok := v.(missingType)
	return ok
}

// IsNullish reports whether v is null, undefined or missing: the values MongoDB's
// expression operators treat as "no value".
func IsNullish(v any) bool {
	switch v.(type) {
	case nil, missingType, bson.Undefined, bson.Null:
		return true
	}
	return false
}

// BSON type numbers, as used by $type and in error messages.
const (
	TypeDouble        int32 = 1
	TypeString        int32 = 2
	TypeObject        int32 = 3
	TypeArray         int32 = 4
	TypeBinary        int32 = 5
	TypeUndefined     int32 = 6
	TypeObjectID      int32 = 7
	TypeBool          int32 = 8
	TypeDate          int32 = 9
	TypeNull          int32 = 10
	TypeRegex         int32 = 11
	TypeDBPointer     int32 = 12
	TypeJavaScript    int32 = 13
	TypeSymbol        int32 = 14
	TypeCodeWithScope int32 = 15
	TypeInt           int32 = 16
	TypeTimestamp     int32 = 17
	TypeLong          int32 = 18
	TypeDecimal       int32 = 19
	TypeMinKey        int32 = -1
	TypeMaxKey        int32 = 127
	// TypeMissing is not a BSON type; it is what TypeOf reports for Missing.
	TypeMissing int32 = 0
)

var typeNames = map[int32]string{
	TypeDouble:        "double",
	TypeString:        "string",
	TypeObject:        "object",
	TypeArray:         "array",
	TypeBinary:        "binData",
	TypeUndefined:     "undefined",
	TypeObjectID:      "objectId",
	TypeBool:          "bool",
	TypeDate:          "date",
	TypeNull:          "null",
	TypeRegex:         "regex",
	TypeDBPointer:     "dbPointer",
	TypeJavaScript:    "javascript",
	TypeSymbol:        "symbol",
	TypeCodeWithScope: "javascriptWithScope",
	TypeInt:           "int",
	TypeTimestamp:     "timestamp",
	TypeLong:          "long",
	TypeDecimal:       "decimal",
	TypeMinKey:        "minKey",
	TypeMaxKey:        "maxKey",
	TypeMissing:       "missing",
}

var typeNumbers = func() map[string]int32 {
	m := make(map[string]int32, len(typeNames))
	for n, s := range typeNames {
		if n != TypeMissing {
			m[s] = n
		}
	}
	return m
}()

// TypeOf returns the BSON type number of v, or TypeMissing for Missing. It returns -2 for
// a Go value outside the model.
func TypeOf(v any) int32 {
	switch v.(type) {
	case float64:
		return TypeDouble
	case string:
		return TypeString
	case bson.D:
		return TypeObject
	case bson.A:
		return TypeArray
	case bson.Binary:
		return TypeBinary
	case bson.Undefined:
		return TypeUndefined
	case bson.ObjectID:
		return TypeObjectID
	case bool:
		return TypeBool
	case bson.DateTime:
		return TypeDate
	case nil, bson.Null:
		return TypeNull
	case bson.Regex:
		return TypeRegex
	case bson.DBPointer:
		return TypeDBPointer
	case bson.JavaScript:
		return TypeJavaScript
	case bson.Symbol:
		return TypeSymbol
	case bson.CodeWithScope:
		return TypeCodeWithScope
	case int32:
		return TypeInt
	case bson.Timestamp:
		return TypeTimestamp
	case int64:
		return TypeLong
	case bson.Decimal128:
		return TypeDecimal
	case bson.MinKey:
		return TypeMinKey
	case bson.MaxKey:
		return TypeMaxKey
	case missingType:
		return TypeMissing
	}
	return -2
}

// TypeName returns MongoDB's alias for v's type ("double", "string", "object", …), or
// "missing" for Missing.
func TypeName(v any) string {
	if name, ok := typeNames[TypeOf(v)]; ok {
		return name
	}
	return "unknown"
}

// TypeNameOf returns the alias for a BSON type number.
func TypeNameOf(t int32) (string, bool) {
	name, ok := typeNames[t]
	return name, ok && t != TypeMissing
}

// TypeNumberOf returns the BSON type number for an alias such as "int" or "objectId".
func TypeNumberOf(name string) (int32, bool) {
	n, ok := typeNumbers[name]
	return n, ok
}

// canonical returns MongoDB's canonical type rank, which orders values of different
// types: MinKey < undefined < null < numbers < strings < objects < arrays < binData <
// ObjectId < bool < date < timestamp < regex < dbPointer < code < code with scope < MaxKey.
func canonical(v any) int {
	switch v.(type) {
	case bson.MinKey:
		return -1
	case bson.Undefined, missingType:
		return 0
	case nil, bson.Null:
		return 5
	case float64, int32, int64, bson.Decimal128:
		return 10
	case string, bson.Symbol:
		return 15
	case bson.D:
		return 20
	case bson.A:
		return 25
	case bson.Binary:
		return 30
	case bson.ObjectID:
		return 35
	case bool:
		return 40
	case bson.DateTime:
		return 45
	case bson.Timestamp:
		return 47
	case bson.Regex:
		return 50
	case bson.DBPointer:
		return 55
	case bson.JavaScript:
		return 60
	case bson.CodeWithScope:
		return 65
	case bson.MaxKey:
		return 127
	}
	return 200
}

// SameBracket reports whether a and b fall in the same canonical type bracket, which is
// what MongoDB's range operators require before comparing ($gt: 5 never matches a string).
func SameBracket(a, b any) bool { return canonical(a) == canonical(b) }

// IsNumber reports whether v is int32, int64, double or decimal128.
func IsNumber(v any) bool {
	switch v.(type) {
	case int32, int64, float64, bson.Decimal128:
		return true
	}
	return false
}

// Lookup returns the value of key in doc and whether it exists.
func Lookup(doc bson.D, key string) (any, bool) {
	for i := range doc {
		if doc[i].Key == key {
			return doc[i].Value, true
		}
	}
	return nil, false
}

// Get returns the value of key in doc, or Missing.
func Get(doc bson.D, key string) any {
	if v, ok := Lookup(doc, key); ok {
		return v
	}
	return Missing
}

// Truthy reports MongoDB's boolean interpretation of an expression value: false, null,
// undefined, missing and numeric zero are false; everything else (including empty
// strings and arrays) is true.
func Truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case nil, missingType, bson.Undefined, bson.Null:
		return false
	case int32:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	case bson.Decimal128:
		d, err := ToDecimal(x)
		return err != nil || !d.IsZero()
	}
	return true
}
