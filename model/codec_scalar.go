package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"time"
	"unsafe"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var (
	typeTime      = reflect.TypeFor[time.Time]()
	typeDuration  = reflect.TypeFor[time.Duration]()
	typeDate      = reflect.TypeFor[fields.Date]()
	typeTimeOfDay = reflect.TypeFor[fields.TimeOfDay]()
	typeObjectID  = reflect.TypeFor[bson.ObjectID]()
	typeDecimal   = reflect.TypeFor[bson.Decimal128]()
	typeAPD       = reflect.TypeFor[apd.Decimal]()
	typeJSON      = reflect.TypeFor[fields.JSON]()
	typePoly      = reflect.TypeFor[fields.Polymorphic]()
	typeAny       = reflect.TypeFor[any]()
	typeMapAny    = reflect.TypeFor[map[string]any]()
	typeSliceAny  = reflect.TypeFor[[]any]()
	typeModel     = reflect.TypeFor[Model]()
	typeBase      = reflect.TypeFor[Base]()
	typeEmbedded  = reflect.TypeFor[Embedded]()
)

// Whole doubles are accepted for integer fields (mongosh writes numbers as doubles);
// fractions, NaN and infinities are not.
func wholeFloat(t byte, f float64, want string) (int64, error) {
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, &fault{typ: t, msg: fmt.Sprintf("stored double %v is not a whole number (%s)", f, want)}
	}
	if f < -9223372036854775808.0 || f >= 9223372036854775808.0 {
		return 0, rangeFault(t, f, want)
	}
	return int64(f), nil
}

// readInteger reads an int32, int64 or whole double; null reads as 0.
func readInteger(t byte, v []byte, want string) (int64, error) {
	switch t {
	case tInt32:
		return int64(le32(v)), nil
	case tInt64:
		return le64(v), nil
	case tDouble:
		return wholeFloat(t, f64(v), want)
	case tNull:
		return 0, nil
	}
	return 0, typeFault(t, want)
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int | ~uint8 | ~uint16 | ~uint32
}

func intCodec[T integer](typ reflect.Type, kind fields.Kind, lo, hi int64, store32 bool) *codec {
	want := typ.String()
	c := &codec{typ: typ, kind: kind, stored: tInt64}
	if store32 {
		c.stored = tInt32
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return binary.LittleEndian.AppendUint32(dst, uint32(int32(*(*T)(p)))), tInt32, nil
		}
	} else {
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return binary.LittleEndian.AppendUint64(dst, uint64(int64(*(*T)(p)))), tInt64, nil
		}
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		x, err := readInteger(t, v, want)
		if err != nil {
			return err
		}
		if x < lo || x > hi {
			return rangeFault(t, x, want)
		}
		*(*T)(p) = T(x)
		return nil
	}
	c.isZero = func(p unsafe.Pointer) bool { return *(*T)(p) == 0 }
	return c
}

// integerCodec returns the codec of an integer type, or nil for unstorable ones.
func integerCodec(typ reflect.Type) *codec {
	switch typ.Kind() {
	case reflect.Int8:
		return intCodec[int8](typ, fields.SmallIntegerField, math.MinInt8, math.MaxInt8, true)
	case reflect.Int16:
		return intCodec[int16](typ, fields.SmallIntegerField, math.MinInt16, math.MaxInt16, true)
	case reflect.Int32:
		return intCodec[int32](typ, fields.IntegerField, math.MinInt32, math.MaxInt32, true)
	case reflect.Int64:
		return intCodec[int64](typ, fields.BigIntegerField, math.MinInt64, math.MaxInt64, false)
	case reflect.Int:
		return intCodec[int](typ, fields.BigIntegerField, math.MinInt, math.MaxInt, false)
	case reflect.Uint8:
		return intCodec[uint8](typ, fields.PositiveSmallIntegerField, 0, math.MaxUint8, true)
	case reflect.Uint16:
		return intCodec[uint16](typ, fields.PositiveSmallIntegerField, 0, math.MaxUint16, true)
	case reflect.Uint32:
		return intCodec[uint32](typ, fields.PositiveIntegerField, 0, math.MaxUint32, false)
	}
	return nil
}

// readFloat reads a double, or an int32/int64 that a double holds exactly.
func readFloat(t byte, v []byte, want string) (float64, error) {
	switch t {
	case tDouble:
		return f64(v), nil
	case tInt32:
		return float64(le32(v)), nil
	case tInt64:
		x := le64(v)
		f := float64(x)
		if f >= 9223372036854775808.0 || int64(f) != x {
			return 0, &fault{typ: t, msg: fmt.Sprintf("stored long %d has no exact %s", x, want)}
		}
		return f, nil
	case tNull:
		return 0, nil
	}
	return 0, typeFault(t, want)
}

func floatCodec(typ reflect.Type) *codec {
	want := typ.String()
	c := &codec{typ: typ, kind: fields.FloatField, stored: tDouble}
	if typ.Kind() == reflect.Float32 {
		c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(*(*float32)(p)))), tDouble, nil
		}
		c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
			f, err := readFloat(t, v, want)
			if err != nil {
				return err
			}
			if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
				return rangeFault(t, f, want)
			}
			*(*float32)(p) = float32(f)
			return nil
		}
		c.isZero = func(p unsafe.Pointer) bool { return *(*float32)(p) == 0 }
		return c
	}
	c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(*(*float64)(p))), tDouble, nil
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		f, err := readFloat(t, v, want)
		if err != nil {
			return err
		}
		*(*float64)(p) = f
		return nil
	}
	c.isZero = func(p unsafe.Pointer) bool { return *(*float64)(p) == 0 }
	return c
}

func stringCodec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.TextField, stored: tString,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return appendString(dst, *(*string)(p)), tString, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tString, tSymbol:
				s, err := readString(v)
				if err != nil {
					return err
				}
				*(*string)(p) = s
				return nil
			case tNull:
				*(*string)(p) = ""
				return nil
			}
			return typeFault(t, want)
		},
		isZero: func(p unsafe.Pointer) bool { return *(*string)(p) == "" },
	}
}

func boolCodec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.BooleanField, stored: tBool,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			if *(*bool)(p) {
				return append(dst, 1), tBool, nil
			}
			return append(dst, 0), tBool, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tBool:
				if v[0] > 1 {
					return malformed("boolean byte is neither 0 nor 1")
				}
				*(*bool)(p) = v[0] == 1
				return nil
			case tNull:
				*(*bool)(p) = false
				return nil
			}
			return typeFault(t, want)
		},
		isZero: func(p unsafe.Pointer) bool { return !*(*bool)(p) },
	}
}

// BSON dates hold int64 milliseconds since the Unix epoch.
var (
	minDateTime = time.UnixMilli(math.MinInt64)
	maxDateTime = time.UnixMilli(math.MaxInt64)
)

func timeToMillis(t time.Time) (int64, error) {
	if t.Before(minDateTime) || t.After(maxDateTime) {
		return 0, &fault{msg: fmt.Sprintf("time %v is outside the range of a BSON date", t)}
	}
	return t.UnixMilli(), nil
}

// truncTime applies the millisecond rule: what the program holds equals what is stored.
func truncTime(t time.Time) time.Time {
	return t.Truncate(time.Millisecond).UTC()
}

func timeCodec(typ reflect.Type) *codec {
	return &codec{
		typ: typ, kind: fields.DateTimeField, stored: tDateTime,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			ms, err := timeToMillis(*(*time.Time)(p))
			if err != nil {
				return dst, 0, err
			}
			return binary.LittleEndian.AppendUint64(dst, uint64(ms)), tDateTime, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tDateTime:
				*(*time.Time)(p) = time.UnixMilli(le64(v)).UTC()
				return nil
			case tNull:
				*(*time.Time)(p) = time.Time{}
				return nil
			}
			return typeFault(t, "time.Time")
		},
		isZero: func(p unsafe.Pointer) bool { return (*time.Time)(p).IsZero() },
		norm: func(p unsafe.Pointer) {
			tp := (*time.Time)(p)
			*tp = truncTime(*tp)
		},
	}
}

func dateCodec(typ reflect.Type) *codec {
	return &codec{
		typ: typ, kind: fields.DateField, stored: tDateTime,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			ms, err := timeToMillis((*fields.Date)(p).Time())
			if err != nil {
				return dst, 0, err
			}
			return binary.LittleEndian.AppendUint64(dst, uint64(ms)), tDateTime, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tDateTime:
				// A stored time of day is dropped: the date is the UTC calendar day.
				*(*fields.Date)(p) = fields.DateOf(time.UnixMilli(le64(v)).UTC())
				return nil
			case tNull:
				*(*fields.Date)(p) = fields.Date{}
				return nil
			}
			return typeFault(t, "fields.Date")
		},
		isZero: func(p unsafe.Pointer) bool { return (*fields.Date)(p).IsZero() },
	}
}

// int64Codec is for int64-based kinds stored as int64 (TimeOfDay, Duration); valid
// checks decoded values.
func int64Codec(typ reflect.Type, kind fields.Kind, valid func(int64) bool) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: kind, stored: tInt64,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return binary.LittleEndian.AppendUint64(dst, uint64(*(*int64)(p))), tInt64, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			x, err := readInteger(t, v, want)
			if err != nil {
				return err
			}
			if valid != nil && !valid(x) {
				return rangeFault(t, x, want)
			}
			*(*int64)(p) = x
			return nil
		},
		isZero: func(p unsafe.Pointer) bool { return *(*int64)(p) == 0 },
	}
}

func uuidCodec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.UUIDField, stored: tBinary,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			dst = binary.LittleEndian.AppendUint32(dst, 16)
			dst = append(dst, 4)
			return append(dst, (*[16]byte)(p)[:]...), tBinary, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tBinary:
				// Subtype 3 is the legacy UUID subtype some drivers still write.
				if sub := v[4]; (sub != 4 && sub != 3) || len(v) != 21 {
					return &fault{typ: t, msg: fmt.Sprintf("stored binData (subtype %d, %d bytes) is not a UUID for %s", v[4], len(v)-5, want)}
				}
				copy((*[16]byte)(p)[:], v[5:])
				return nil
			case tNull:
				*(*[16]byte)(p) = [16]byte{}
				return nil
			}
			return typeFault(t, want)
		},
		isZero: func(p unsafe.Pointer) bool { return *(*[16]byte)(p) == [16]byte{} },
	}
}

// readBinary returns the subtype and data of a binary value, unwrapping the old
// subtype 2 framing.
func readBinary(v []byte) (byte, []byte, error) {
	sub, data := v[4], v[5:]
	if sub == 2 {
		if len(data) < 4 || int(le32(data)) != len(data)-4 {
			return 0, nil, malformed("bad subtype 2 binary length")
		}
		data = data[4:]
	}
	return sub, data, nil
}

func bytesCodec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.BinaryField, stored: tBinary,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			b := *(*[]byte)(p)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
			dst = append(dst, 0)
			return append(dst, b...), tBinary, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tBinary:
				_, data, err := readBinary(v)
				if err != nil {
					return err
				}
				if len(data) == 0 {
					*(*[]byte)(p) = nil
				} else {
					*(*[]byte)(p) = append([]byte(nil), data...)
				}
				return nil
			case tNull:
				*(*[]byte)(p) = nil
				return nil
			}
			return typeFault(t, want)
		},
		isZero: func(p unsafe.Pointer) bool { return len(*(*[]byte)(p)) == 0 },
	}
}

func objectIDCodec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.ObjectIdField, stored: tObjectID,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return append(dst, (*[12]byte)(p)[:]...), tObjectID, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			switch t {
			case tObjectID:
				copy((*[12]byte)(p)[:], v)
				return nil
			case tNull:
				*(*[12]byte)(p) = [12]byte{}
				return nil
			}
			return typeFault(t, want)
		},
		isZero: func(p unsafe.Pointer) bool { return *(*[12]byte)(p) == [12]byte{} },
	}
}

// readDecimal reads a decimal128, or converts an int32, int64 or double.
func readDecimal(t byte, v []byte, want string) (bson.Decimal128, error) {
	switch t {
	case tDecimal:
		return bson.NewDecimal128(uint64(le64(v[8:])), uint64(le64(v))), nil
	case tInt32:
		return decimalFromInt(int64(le32(v))), nil
	case tInt64:
		return decimalFromInt(le64(v)), nil
	case tDouble:
		return decimalFromFloat(f64(v)), nil
	case tNull:
		return bson.Decimal128{}, nil
	}
	return bson.Decimal128{}, typeFault(t, want)
}

func appendDecimal(dst []byte, d bson.Decimal128) []byte {
	h, l := d.GetBytes()
	dst = binary.LittleEndian.AppendUint64(dst, l)
	return binary.LittleEndian.AppendUint64(dst, h)
}

func decimal128Codec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.DecimalField, stored: tDecimal,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			return appendDecimal(dst, *(*bson.Decimal128)(p)), tDecimal, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			d, err := readDecimal(t, v, want)
			if err != nil {
				return err
			}
			*(*bson.Decimal128)(p) = d
			return nil
		},
		isZero: func(p unsafe.Pointer) bool { return (*bson.Decimal128)(p).IsZero() },
	}
}

func apdCodec(typ reflect.Type) *codec {
	want := typ.String()
	return &codec{
		typ: typ, kind: fields.DecimalField, stored: tDecimal,
		enc: func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
			d, err := apdToDecimal128((*apd.Decimal)(p))
			if err != nil {
				return dst, 0, err
			}
			return appendDecimal(dst, d), tDecimal, nil
		},
		dec: func(p unsafe.Pointer, t byte, v []byte) error {
			d, err := readDecimal(t, v, want)
			if err != nil {
				return err
			}
			if t == tNull {
				*(*apd.Decimal)(p) = apd.Decimal{}
				return nil
			}
			return decimal128ToAPD(d, (*apd.Decimal)(p))
		},
		isZero: func(p unsafe.Pointer) bool { return (*apd.Decimal)(p).IsZero() && (*apd.Decimal)(p).Form == apd.Finite },
	}
}
