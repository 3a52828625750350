package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// JSONField values are stored as native BSON and loaded back as plain Go values:
// documents as map[string]any, arrays as []any, int32, int64, float64, string, bool, nil,
// and the driver's bson types for everything else (ObjectID, DateTime, Decimal128,
// Binary, Regex, Timestamp, …), so that a value written by another program round-trips
// unchanged apart from the order of object keys, which are written sorted.

// maxJSONDepth bounds nesting so a cyclic map cannot recurse forever.
const maxJSONDepth = 200

func jsonCodecs(typ reflect.Type) *codec {
	c := &codec{typ: typ, kind: fields.JSONField, isJSON: true}
	switch typ {
	case typeAny:
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			switch v := (*(*any)(p)).(type) {
			case nil:
				return dst, 0, nil
			case fields.JSONNullValue:
				return dst, tNull, nil
			default:
				return appendJSON(dst, v, 0)
			}
		}
		c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
			if t == tNull {
				*(*any)(p) = fields.JSONNull
				return nil
			}
			x, err := decodeAny(t, v, 0)
			if err != nil {
				return err
			}
			*(*any)(p) = x
			return nil
		}
		c.isZero = func(p unsafe.Pointer) bool { return *(*any)(p) == nil }
	case typeJSON:
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			j := (*fields.JSON)(p)
			switch {
			case j.Value != nil:
				return appendJSON(dst, j.Value, 0)
			case j.Null:
				return dst, tNull, nil
			}
			return dst, 0, nil
		}
		c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
			if t == tNull {
				*(*fields.JSON)(p) = fields.JSON{Null: true}
				return nil
			}
			x, err := decodeAny(t, v, 0)
			if err != nil {
				return err
			}
			*(*fields.JSON)(p) = fields.JSON{Value: x}
			return nil
		}
		c.isZero = func(p unsafe.Pointer) bool { return (*fields.JSON)(p).IsNone() }
	case typeMapAny:
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			m := *(*map[string]any)(p)
			if m == nil {
				return dst, 0, nil
			}
			return appendJSON(dst, m, 0)
		}
		c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tNull:
				*(*map[string]any)(p) = nil
				return nil
			case tDocument:
				m, err := decodeMap(v, 0)
				if err != nil {
					return err
				}
				*(*map[string]any)(p) = m
				return nil
			}
			return typeFault(t, "map[string]any")
		}
		c.isZero = func(p unsafe.Pointer) bool { return *(*map[string]any)(p) == nil }
	case typeSliceAny:
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			a := *(*[]any)(p)
			if a == nil {
				return dst, 0, nil
			}
			return appendJSON(dst, a, 0)
		}
		c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tNull:
				*(*[]any)(p) = nil
				return nil
			case tArray:
				a, err := decodeArray(v, 0)
				if err != nil {
					return err
				}
				*(*[]any)(p) = a
				return nil
			}
			return typeFault(t, "[]any")
		}
		c.isZero = func(p unsafe.Pointer) bool { return *(*[]any)(p) == nil }
	default:
		return nil
	}
	return c
}

func decodeMap(doc []byte, depth int) (map[string]any, error) {
	if depth > maxJSONDepth {
		return nil, &fault{msg: "JSON value nested too deeply"}
	}
	body, err := docBody(doc)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for len(body) > 0 {
		t, key, val, size, err := nextElement(body)
		if err != nil {
			return nil, err
		}
		body = body[size:]
		x, err := decodeAny(t, val, depth+1)
		if err != nil {
			return nil, withPath(err, string(key))
		}
		m[string(key)] = x
	}
	return m, nil
}

func decodeArray(doc []byte, depth int) ([]any, error) {
	if depth > maxJSONDepth {
		return nil, &fault{msg: "JSON value nested too deeply"}
	}
	n, err := countElements(doc)
	if err != nil {
		return nil, err
	}
	a := make([]any, n)
	body := doc[4 : len(doc)-1]
	for i := range a {
		t, _, val, size, err := nextElement(body)
		if err != nil {
			return nil, err
		}
		body = body[size:]
		if a[i], err = decodeAny(t, val, depth+1); err != nil {
			return nil, withPath(err, fmt.Sprint(i))
		}
	}
	return a, nil
}

// decodeAny converts any BSON value to a plain Go value (see the comment at the top).
func decodeAny(t byte, v []byte, depth int) (any, error) {
	switch t {
	case tDouble:
		return f64(v), nil
	case tString:
		return readString(v)
	case tDocument:
		return decodeMap(v, depth)
	case tArray:
		return decodeArray(v, depth)
	case tBinary:
		sub, data, err := readBinary(v)
		if err != nil {
			return nil, err
		}
		return bson.Binary{Subtype: sub, Data: append([]byte{}, data...)}, nil
	case tUndefined:
		return bson.Undefined{}, nil
	case tObjectID:
		var id bson.ObjectID
		copy(id[:], v)
		return id, nil
	case tBool:
		if v[0] > 1 {
			return nil, malformed("boolean byte is neither 0 nor 1")
		}
		return v[0] == 1, nil
	case tDateTime:
		return bson.DateTime(le64(v)), nil
	case tNull:
		return nil, nil
	case tRegex:
		i := indexZero(v)
		return bson.Regex{Pattern: string(v[:i]), Options: string(v[i+1 : len(v)-1])}, nil
	case tDBPointer:
		l := int(le32(v))
		s, err := readString(v[:4+l])
		if err != nil {
			return nil, err
		}
		var id bson.ObjectID
		copy(id[:], v[4+l:])
		return bson.DBPointer{DB: s, Pointer: id}, nil
	case tJavaScript:
		s, err := readString(v)
		return bson.JavaScript(s), err
	case tSymbol:
		s, err := readString(v)
		return bson.Symbol(s), err
	case tCodeScope:
		if len(v) < 14 {
			return nil, malformed("short code with scope")
		}
		l := int(le32(v[4:]))
		if l < 1 || 8+l+5 > len(v) {
			return nil, malformed("bad code with scope")
		}
		code, err := readString(v[4 : 8+l])
		if err != nil {
			return nil, err
		}
		scope := v[8+l:]
		if _, err := docBody(scope); err != nil {
			return nil, err
		}
		return bson.CodeWithScope{Code: bson.JavaScript(code), Scope: bson.Raw(append([]byte{}, scope...))}, nil
	case tInt32:
		return le32(v), nil
	case tTimestamp:
		return bson.Timestamp{I: binary.LittleEndian.Uint32(v), T: binary.LittleEndian.Uint32(v[4:])}, nil
	case tInt64:
		return le64(v), nil
	case tDecimal:
		return bson.NewDecimal128(uint64(le64(v[8:])), uint64(le64(v))), nil
	case tMinKey:
		return bson.MinKey{}, nil
	case tMaxKey:
		return bson.MaxKey{}, nil
	}
	return nil, malformed(fmt.Sprintf("unknown BSON type 0x%02x", t))
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

func appendInt(dst []byte, x int64) ([]byte, byte, error) {
	if x >= math.MinInt32 && x <= math.MaxInt32 {
		return binary.LittleEndian.AppendUint32(dst, uint32(int32(x))), tInt32, nil
	}
	return binary.LittleEndian.AppendUint64(dst, uint64(x)), tInt64, nil
}

// appendJSON appends a JSON value. Go ints are stored as int32 when they fit, else int64
// (int32 and int64 keep their own width); maps are written with sorted keys.
func appendJSON(dst []byte, v any, depth int) ([]byte, byte, error) {
	if depth > maxJSONDepth {
		return dst, 0, &fault{msg: "JSON value nested too deeply (or cyclic)"}
	}
	switch x := v.(type) {
	case nil, fields.JSONNullValue, bson.Null:
		return dst, tNull, nil
	case bool:
		if x {
			return append(dst, 1), tBool, nil
		}
		return append(dst, 0), tBool, nil
	case string:
		return appendString(dst, x), tString, nil
	case float64:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), tDouble, nil
	case float32:
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(x))), tDouble, nil
	case int:
		return appendInt(dst, int64(x))
	case int8:
		return appendInt(dst, int64(x))
	case int16:
		return appendInt(dst, int64(x))
	case int32:
		return binary.LittleEndian.AppendUint32(dst, uint32(x)), tInt32, nil
	case int64:
		return binary.LittleEndian.AppendUint64(dst, uint64(x)), tInt64, nil
	case uint8:
		return appendInt(dst, int64(x))
	case uint16:
		return appendInt(dst, int64(x))
	case uint32:
		return appendInt(dst, int64(x))
	case uint:
		if uint64(x) > math.MaxInt64 {
			return dst, 0, &fault{msg: fmt.Sprintf("integer %d does not fit a BSON long", x)}
		}
		return appendInt(dst, int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return dst, 0, &fault{msg: fmt.Sprintf("integer %d does not fit a BSON long", x)}
		}
		return appendInt(dst, int64(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return appendJSONDoc(dst, len(keys), func(i int) (string, any) { return keys[i], x[keys[i]] }, depth)
	case bson.M:
		return appendJSON(dst, map[string]any(x), depth)
	case bson.D:
		return appendJSONDoc(dst, len(x), func(i int) (string, any) { return x[i].Key, x[i].Value }, depth)
	case []any:
		return appendJSONArray(dst, x, depth)
	case bson.A:
		return appendJSONArray(dst, x, depth)
	case bson.Raw:
		if _, err := docBody(x); err != nil {
			return dst, 0, err
		}
		return append(dst, x...), tDocument, nil
	case bson.RawValue:
		if _, ok := valueSize(byte(x.Type), x.Value); !ok {
			return dst, 0, &fault{msg: "invalid bson.RawValue"}
		}
		return append(dst, x.Value...), byte(x.Type), nil
	case bson.ObjectID:
		return append(dst, x[:]...), tObjectID, nil
	case bson.DateTime:
		return binary.LittleEndian.AppendUint64(dst, uint64(x)), tDateTime, nil
	case time.Time:
		ms, err := timeToMillis(x)
		if err != nil {
			return dst, 0, err
		}
		return binary.LittleEndian.AppendUint64(dst, uint64(ms)), tDateTime, nil
	case bson.Decimal128:
		return appendDecimal(dst, x), tDecimal, nil
	case []byte:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x)))
		dst = append(dst, 0)
		return append(dst, x...), tBinary, nil
	case bson.Binary:
		if x.Subtype == 2 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x.Data)+4))
			dst = append(dst, 2)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x.Data)))
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x.Data)))
			dst = append(dst, x.Subtype)
		}
		return append(dst, x.Data...), tBinary, nil
	case bson.Timestamp:
		dst = binary.LittleEndian.AppendUint32(dst, x.I)
		return binary.LittleEndian.AppendUint32(dst, x.T), tTimestamp, nil
	case bson.MinKey:
		return dst, tMinKey, nil
	case bson.MaxKey:
		return dst, tMaxKey, nil
	case bson.Undefined:
		return dst, tUndefined, nil
	}
	t, b, err := bson.MarshalValue(v)
	if err != nil {
		return dst, 0, &fault{msg: fmt.Sprintf("cannot store a %T in a JSONField: %v", v, err)}
	}
	return append(dst, b...), byte(t), nil
}

func appendJSONDoc(dst []byte, n int, at func(int) (string, any), depth int) ([]byte, byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for i := 0; i < n; i++ {
		k, v := at(i)
		if !validKey(k) {
			return dst, 0, &fault{msg: fmt.Sprintf("JSON object key %q cannot be stored (it contains a zero byte)", k)}
		}
		hdr := len(dst)
		dst = append(dst, 0)
		dst = append(dst, k...)
		dst = append(dst, 0)
		var t byte
		var err error
		dst, t, err = appendJSON(dst, v, depth+1)
		if err != nil {
			return dst, 0, withPath(err, k)
		}
		dst[hdr] = t
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, tDocument, nil
}

func appendJSONArray(dst []byte, a []any, depth int) ([]byte, byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	for i, v := range a {
		hdr := len(dst)
		dst = append(dst, 0)
		dst = appendIndexKey(dst, i)
		var t byte
		var err error
		dst, t, err = appendJSON(dst, v, depth+1)
		if err != nil {
			return dst, 0, withPath(err, fmt.Sprint(i))
		}
		dst[hdr] = t
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, tArray, nil
}

// validKey reports whether s can be a BSON key (a C string).
func validKey(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}
