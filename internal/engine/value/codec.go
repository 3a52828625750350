package value

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MaxDepth bounds document nesting during decoding, so hostile input cannot exhaust the
// stack. MongoDB itself refuses to store documents nested deeper than 100 levels.
const MaxDepth = 180

// ErrMalformed reports bytes that are not a valid BSON document.
var ErrMalformed = errors.New("malformed BSON")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// Decode parses one BSON document that occupies all of b. Strings and binary data are
// copied, so b may be reused afterwards.
func Decode(b []byte) (bson.D, error) {
	return decodeDoc(b, 0)
}

// DocLength returns the length a BSON document declares in its first four bytes.
func DocLength(b []byte) (int, error) {
	if len(b) < 5 {
		return 0, malformed("document shorter than 5 bytes")
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 {
		return 0, malformed("invalid document length %d", n)
	}
	return n, nil
}

func decodeDoc(b []byte, depth int) (bson.D, error) {
	if depth > MaxDepth {
		return nil, malformed("nesting deeper than %d levels", MaxDepth)
	}
	n, err := DocLength(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) || b[n-1] != 0 {
		return nil, malformed("document length %d does not match its %d bytes", n, len(b))
	}
	doc := make(bson.D, 0, 8)
	pos := 4
	for pos < n-1 {
		t := b[pos]
		pos++
		end := indexZero(b, pos, n-1)
		if end < 0 {
			return nil, malformed("unterminated key")
		}
		key := string(b[pos:end])
		pos = end + 1
		v, next, err := decodeValue(b, pos, n-1, t, depth)
		if err != nil {
			return nil, fmt.Errorf("%w (field %q)", err, key)
		}
		pos = next
		doc = append(doc, bson.E{Key: key, Value: v})
	}
	if pos != n-1 {
		return nil, malformed("element overruns document")
	}
	return doc, nil
}

func decodeArray(b []byte, depth int) (bson.A, error) {
	doc, err := decodeDoc(b, depth)
	if err != nil {
		return nil, err
	}
	arr := make(bson.A, len(doc))
	for i, e := range doc {
		arr[i] = e.Value
	}
	return arr, nil
}

func indexZero(b []byte, from, limit int) int {
	for i := from; i < limit; i++ {
		if b[i] == 0 {
			return i
		}
	}
	return -1
}

func need(pos, n, limit int) error {
	if n < 0 || pos+n > limit {
		return malformed("value overruns document")
	}
	return nil
}

func readString(b []byte, pos, limit int) (string, int, error) {
	if err := need(pos, 4, limit); err != nil {
		return "", 0, err
	}
	l := int(int32(binary.LittleEndian.Uint32(b[pos:])))
	pos += 4
	if l < 1 {
		return "", 0, malformed("invalid string length %d", l)
	}
	if err := need(pos, l, limit); err != nil {
		return "", 0, err
	}
	if b[pos+l-1] != 0 {
		return "", 0, malformed("string not null-terminated")
	}
	return string(b[pos : pos+l-1]), pos + l, nil
}

func readCString(b []byte, pos, limit int) (string, int, error) {
	end := indexZero(b, pos, limit)
	if end < 0 {
		return "", 0, malformed("unterminated cstring")
	}
	return string(b[pos:end]), end + 1, nil
}

func readEmbedded(b []byte, pos, limit int) ([]byte, error) {
	if err := need(pos, 4, limit); err != nil {
		return nil, err
	}
	l := int(int32(binary.LittleEndian.Uint32(b[pos:])))
	if l < 5 {
		return nil, malformed("invalid embedded document length %d", l)
	}
	if err := need(pos, l, limit); err != nil {
		return nil, err
	}
	return b[pos : pos+l], nil
}

func decodeValue(b []byte, pos, limit int, t byte, depth int) (any, int, error) {
	switch bson.Type(t) {
	case bson.TypeDouble:
		if err := need(pos, 8, limit); err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b[pos:])), pos + 8, nil
	case bson.TypeString:
		s, next, err := readString(b, pos, limit)
		return s, next, err
	case bson.TypeEmbeddedDocument:
		sub, err := readEmbedded(b, pos, limit)
		if err != nil {
			return nil, 0, err
		}
		d, err := decodeDoc(sub, depth+1)
		return d, pos + len(sub), err
	case bson.TypeArray:
		sub, err := readEmbedded(b, pos, limit)
		if err != nil {
			return nil, 0, err
		}
		a, err := decodeArray(sub, depth+1)
		return a, pos + len(sub), err
	case bson.TypeBinary:
		if err := need(pos, 5, limit); err != nil {
			return nil, 0, err
		}
		l := int(int32(binary.LittleEndian.Uint32(b[pos:])))
		sub := b[pos+4]
		pos += 5
		if err := need(pos, l, limit); err != nil {
			return nil, 0, err
		}
		data := b[pos : pos+l]
		if sub == 0x02 { // old binary: the payload repeats its own length
			if l < 4 || int(int32(binary.LittleEndian.Uint32(data))) != l-4 {
				return nil, 0, malformed("invalid old binary length")
			}
			data = data[4:]
		}
		return bson.Binary{Subtype: sub, Data: append([]byte{}, data...)}, pos + l, nil
	case bson.TypeUndefined:
		return bson.Undefined{}, pos, nil
	case bson.TypeObjectID:
		if err := need(pos, 12, limit); err != nil {
			return nil, 0, err
		}
		var oid bson.ObjectID
		copy(oid[:], b[pos:pos+12])
		return oid, pos + 12, nil
	case bson.TypeBoolean:
		if err := need(pos, 1, limit); err != nil {
			return nil, 0, err
		}
		switch b[pos] {
		case 0:
			return false, pos + 1, nil
		case 1:
			return true, pos + 1, nil
		}
		return nil, 0, malformed("invalid boolean byte %d", b[pos])
	case bson.TypeDateTime:
		if err := need(pos, 8, limit); err != nil {
			return nil, 0, err
		}
		return bson.DateTime(int64(binary.LittleEndian.Uint64(b[pos:]))), pos + 8, nil
	case bson.TypeNull:
		return nil, pos, nil
	case bson.TypeRegex:
		pattern, next, err := readCString(b, pos, limit)
		if err != nil {
			return nil, 0, err
		}
		opts, next, err := readCString(b, next, limit)
		if err != nil {
			return nil, 0, err
		}
		return bson.Regex{Pattern: pattern, Options: opts}, next, nil
	case bson.TypeDBPointer:
		ns, next, err := readString(b, pos, limit)
		if err != nil {
			return nil, 0, err
		}
		if err := need(next, 12, limit); err != nil {
			return nil, 0, err
		}
		var oid bson.ObjectID
		copy(oid[:], b[next:next+12])
		return bson.DBPointer{DB: ns, Pointer: oid}, next + 12, nil
	case bson.TypeJavaScript:
		s, next, err := readString(b, pos, limit)
		return bson.JavaScript(s), next, err
	case bson.TypeSymbol:
		s, next, err := readString(b, pos, limit)
		return bson.Symbol(s), next, err
	case bson.TypeCodeWithScope:
		if err := need(pos, 4, limit); err != nil {
			return nil, 0, err
		}
		total := int(int32(binary.LittleEndian.Uint32(b[pos:])))
		if total < 14 {
			return nil, 0, malformed("invalid code with scope length %d", total)
		}
		if err := need(pos, total, limit); err != nil {
			return nil, 0, err
		}
		end := pos + total
		code, next, err := readString(b, pos+4, end)
		if err != nil {
			return nil, 0, err
		}
		scope, err := decodeDoc(b[next:end], depth+1)
		if err != nil {
			return nil, 0, err
		}
		return bson.CodeWithScope{Code: bson.JavaScript(code), Scope: scope}, end, nil
	case bson.TypeInt32:
		if err := need(pos, 4, limit); err != nil {
			return nil, 0, err
		}
		return int32(binary.LittleEndian.Uint32(b[pos:])), pos + 4, nil
	case bson.TypeTimestamp:
		if err := need(pos, 8, limit); err != nil {
			return nil, 0, err
		}
		i := binary.LittleEndian.Uint32(b[pos:])
		tt := binary.LittleEndian.Uint32(b[pos+4:])
		return bson.Timestamp{T: tt, I: i}, pos + 8, nil
	case bson.TypeInt64:
		if err := need(pos, 8, limit); err != nil {
			return nil, 0, err
		}
		return int64(binary.LittleEndian.Uint64(b[pos:])), pos + 8, nil
	case bson.TypeDecimal128:
		if err := need(pos, 16, limit); err != nil {
			return nil, 0, err
		}
		lo := binary.LittleEndian.Uint64(b[pos:])
		hi := binary.LittleEndian.Uint64(b[pos+8:])
		return bson.NewDecimal128(hi, lo), pos + 16, nil
	case bson.TypeMinKey:
		return bson.MinKey{}, pos, nil
	case bson.TypeMaxKey:
		return bson.MaxKey{}, pos, nil
	}
	return nil, 0, malformed("unknown element type 0x%02x", t)
}

// Encode returns the BSON bytes of doc.
func Encode(doc bson.D) ([]byte, error) {
	return AppendDoc(make([]byte, 0, 64+len(doc)*16), doc)
}

// MustEncode is Encode for documents the server builds itself; it panics on a value
// outside the model, which is a bug in the server, never a user error.
func MustEncode(doc bson.D) []byte {
	b, err := Encode(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// AppendDoc appends the BSON bytes of doc to dst. Besides the model's types it accepts
// int (as int32 when it fits, else int64) and bson.Raw (an already-encoded document).
func AppendDoc(dst []byte, doc bson.D) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	var err error
	for i := range doc {
		if dst, err = appendElement(dst, doc[i].Key, doc[i].Value); err != nil {
			return nil, err
		}
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}

// AppendArray appends the BSON bytes of arr to dst.
func AppendArray(dst []byte, arr bson.A) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	var err error
	var keyBuf [20]byte
	for i := range arr {
		key := strconv.AppendInt(keyBuf[:0], int64(i), 10)
		if dst, err = appendElementKeyBytes(dst, key, arr[i]); err != nil {
			return nil, err
		}
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}

func appendElement(dst []byte, key string, v any) ([]byte, error) {
	if strings.IndexByte(key, 0) >= 0 {
		return nil, fmt.Errorf("value: field name %q contains a null byte", key)
	}
	return appendTyped(dst, key, nil, v)
}

func appendElementKeyBytes(dst []byte, key []byte, v any) ([]byte, error) {
	return appendTyped(dst, "", key, v)
}

func appendHeader(dst []byte, t bson.Type, key string, keyBytes []byte) []byte {
	dst = append(dst, byte(t))
	if keyBytes != nil {
		dst = append(dst, keyBytes...)
	} else {
		dst = append(dst, key...)
	}
	return append(dst, 0)
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)+1))
	dst = append(dst, s...)
	return append(dst, 0)
}

func appendTyped(dst []byte, key string, kb []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case float64:
		dst = appendHeader(dst, bson.TypeDouble, key, kb)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x)), nil
	case string:
		dst = appendHeader(dst, bson.TypeString, key, kb)
		return appendStr(dst, x), nil
	case bson.D:
		dst = appendHeader(dst, bson.TypeEmbeddedDocument, key, kb)
		return AppendDoc(dst, x)
	case bson.Raw:
		dst = appendHeader(dst, bson.TypeEmbeddedDocument, key, kb)
		return append(dst, x...), nil
	case bson.A:
		dst = appendHeader(dst, bson.TypeArray, key, kb)
		return AppendArray(dst, x)
	case bson.Binary:
		dst = appendHeader(dst, bson.TypeBinary, key, kb)
		if x.Subtype == 0x02 {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x.Data)+4))
			dst = append(dst, x.Subtype)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x.Data)))
		} else {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(x.Data)))
			dst = append(dst, x.Subtype)
		}
		return append(dst, x.Data...), nil
	case bson.Undefined:
		return appendHeader(dst, bson.TypeUndefined, key, kb), nil
	case bson.ObjectID:
		dst = appendHeader(dst, bson.TypeObjectID, key, kb)
		return append(dst, x[:]...), nil
	case bool:
		dst = appendHeader(dst, bson.TypeBoolean, key, kb)
		if x {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case bson.DateTime:
		dst = appendHeader(dst, bson.TypeDateTime, key, kb)
		return binary.LittleEndian.AppendUint64(dst, uint64(x)), nil
	case nil, bson.Null:
		return appendHeader(dst, bson.TypeNull, key, kb), nil
	case bson.Regex:
		if strings.IndexByte(x.Pattern, 0) >= 0 || strings.IndexByte(x.Options, 0) >= 0 {
			return nil, errors.New("value: regular expression contains a null byte")
		}
		dst = appendHeader(dst, bson.TypeRegex, key, kb)
		dst = append(dst, x.Pattern...)
		dst = append(dst, 0)
		dst = append(dst, x.Options...)
		return append(dst, 0), nil
	case bson.DBPointer:
		dst = appendHeader(dst, bson.TypeDBPointer, key, kb)
		dst = appendStr(dst, x.DB)
		return append(dst, x.Pointer[:]...), nil
	case bson.JavaScript:
		dst = appendHeader(dst, bson.TypeJavaScript, key, kb)
		return appendStr(dst, string(x)), nil
	case bson.Symbol:
		dst = appendHeader(dst, bson.TypeSymbol, key, kb)
		return appendStr(dst, string(x)), nil
	case bson.CodeWithScope:
		scope, ok := x.Scope.(bson.D)
		if !ok && x.Scope != nil {
			return nil, fmt.Errorf("value: code with scope has a %T scope", x.Scope)
		}
		dst = appendHeader(dst, bson.TypeCodeWithScope, key, kb)
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = appendStr(dst, string(x.Code))
		var err error
		if dst, err = AppendDoc(dst, scope); err != nil {
			return nil, err
		}
		binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
		return dst, nil
	case int32:
		dst = appendHeader(dst, bson.TypeInt32, key, kb)
		return binary.LittleEndian.AppendUint32(dst, uint32(x)), nil
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return appendTyped(dst, key, kb, int32(x))
		}
		return appendTyped(dst, key, kb, int64(x))
	case bson.Timestamp:
		dst = appendHeader(dst, bson.TypeTimestamp, key, kb)
		dst = binary.LittleEndian.AppendUint32(dst, x.I)
		return binary.LittleEndian.AppendUint32(dst, x.T), nil
	case int64:
		dst = appendHeader(dst, bson.TypeInt64, key, kb)
		return binary.LittleEndian.AppendUint64(dst, uint64(x)), nil
	case bson.Decimal128:
		dst = appendHeader(dst, bson.TypeDecimal128, key, kb)
		hi, lo := x.GetBytes()
		dst = binary.LittleEndian.AppendUint64(dst, lo)
		return binary.LittleEndian.AppendUint64(dst, hi), nil
	case bson.MinKey:
		return appendHeader(dst, bson.TypeMinKey, key, kb), nil
	case bson.MaxKey:
		return appendHeader(dst, bson.TypeMaxKey, key, kb), nil
	case missingType:
		return nil, errors.New("value: attempt to store a missing value")
	}
	return nil, fmt.Errorf("value: cannot encode Go type %T", v)
}
