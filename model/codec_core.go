package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The codec works on struct memory: every field has a precomputed offset and a codec
// whose functions read or write the Go value at a pointer. Nothing on the encode or
// decode path uses reflection per field; reflect only allocates pointer targets and
// slices of struct elements. All unsafe access is confined to this file and the
// codec_*.go files, and always goes through pointers derived from a checked *T.

// BSON type bytes.
const (
	tDouble     byte = 0x01
	tString     byte = 0x02
	tDocument   byte = 0x03
	tArray      byte = 0x04
	tBinary     byte = 0x05
	tUndefined  byte = 0x06
	tObjectID   byte = 0x07
	tBool       byte = 0x08
	tDateTime   byte = 0x09
	tNull       byte = 0x0A
	tRegex      byte = 0x0B
	tDBPointer  byte = 0x0C
	tJavaScript byte = 0x0D
	tSymbol     byte = 0x0E
	tCodeScope  byte = 0x0F
	tInt32      byte = 0x10
	tTimestamp  byte = 0x11
	tInt64      byte = 0x12
	tDecimal    byte = 0x13
	tMaxKey     byte = 0x7F
	tMinKey     byte = 0xFF
)

// bsonTypeName returns MongoDB's $type alias of a BSON type byte.
func bsonTypeName(t byte) string {
	switch t {
	case tDouble:
		return "double"
	case tString:
		return "string"
	case tDocument:
		return "object"
	case tArray:
		return "array"
	case tBinary:
		return "binData"
	case tUndefined:
		return "undefined"
	case tObjectID:
		return "objectId"
	case tBool:
		return "bool"
	case tDateTime:
		return "date"
	case tNull:
		return "null"
	case tRegex:
		return "regex"
	case tDBPointer:
		return "dbPointer"
	case tJavaScript:
		return "javascript"
	case tSymbol:
		return "symbol"
	case tCodeScope:
		return "javascriptWithScope"
	case tInt32:
		return "int"
	case tTimestamp:
		return "timestamp"
	case tInt64:
		return "long"
	case tDecimal:
		return "decimal"
	case tMaxKey:
		return "maxKey"
	case tMinKey:
		return "minKey"
	}
	return fmt.Sprintf("type 0x%02x", t)
}

// encFunc appends the BSON value of the Go value at p and returns its BSON type; type 0
// means "store nothing" (a JSONField without a value).
type encFunc func(dst []byte, p unsafe.Pointer) ([]byte, byte, error)

// decFunc stores a BSON value of type t (v is exactly the value's bytes) into the Go
// value at p. The memory at p holds the Go zero value or a previous value; decFunc
// overwrites it.
type decFunc func(p unsafe.Pointer, t byte, v []byte) error

// codec converts one Go type.
type codec struct {
	typ  reflect.Type
	kind fields.Kind
	// stored is the BSON type values are written as (0 when it varies, as for JSON).
	stored byte
	enc    encFunc
	dec    decFunc
	// isZero reports the Go zero value (for defaults and an unset primary key).
	isZero func(p unsafe.Pointer) bool
	// norm truncates time.Time values to the millisecond in UTC; nil when the type holds
	// none.
	norm func(p unsafe.Pointer)

	elem   *codec  // pointer target or slice element
	ptr    bool    // a pointer: nil is stored as BSON null
	slice  bool    // a slice stored as an array
	meta   *Meta   // embedded model
	poly   []*Meta // polymorphic choices
	isJSON bool
}

// fault is a decoding or encoding problem inside a document, before the model and _id
// are known; DecodeError carries it to the caller.
type fault struct {
	path []string // innermost segment first
	typ  byte     // the stored BSON type, 0 for malformed data
	msg  string
}

func (f *fault) Error() string { return f.msg }

func (f *fault) pathString() string {
	var b strings.Builder
	for i := len(f.path) - 1; i >= 0; i-- {
		b.WriteString(f.path[i])
		if i > 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

func typeFault(t byte, want string) error {
	return &fault{typ: t, msg: "a stored " + bsonTypeName(t) + " does not fit " + want}
}

func rangeFault(t byte, x any, want string) error {
	return &fault{typ: t, msg: fmt.Sprintf("stored %s %v is out of range for %s", bsonTypeName(t), x, want)}
}

func malformed(msg string) error { return &fault{msg: "malformed BSON: " + msg} }

// withPath prefixes err's path with seg.
func withPath(err error, seg string) error {
	if f, ok := err.(*fault); ok {
		f.path = append(f.path, seg)
		return f
	}
	return &fault{path: []string{seg}, msg: err.Error()}
}

// valueSize returns the byte length of the BSON value of type t at the start of b.
func valueSize(t byte, b []byte) (int, bool) {
	var n int
	switch t {
	case tDouble, tDateTime, tTimestamp, tInt64:
		n = 8
	case tString, tJavaScript, tSymbol:
		if len(b) < 4 {
			return 0, false
		}
		l := int32(binary.LittleEndian.Uint32(b))
		if l < 1 {
			return 0, false
		}
		n = 4 + int(l)
	case tDocument, tArray, tCodeScope:
		if len(b) < 4 {
			return 0, false
		}
		l := int32(binary.LittleEndian.Uint32(b))
		if l < 5 {
			return 0, false
		}
		n = int(l)
	case tBinary:
		if len(b) < 5 {
			return 0, false
		}
		l := int32(binary.LittleEndian.Uint32(b))
		if l < 0 {
			return 0, false
		}
		n = 5 + int(l)
	case tUndefined, tNull, tMaxKey, tMinKey:
		n = 0
	case tObjectID:
		n = 12
	case tBool:
		n = 1
	case tRegex:
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return 0, false
		}
		j := bytes.IndexByte(b[i+1:], 0)
		if j < 0 {
			return 0, false
		}
		n = i + 1 + j + 1
	case tDBPointer:
		if len(b) < 4 {
			return 0, false
		}
		l := int32(binary.LittleEndian.Uint32(b))
		if l < 1 {
			return 0, false
		}
		n = 4 + int(l) + 12
	case tInt32:
		n = 4
	case tDecimal:
		n = 16
	default:
		return 0, false
	}
	return n, n <= len(b)
}

// docBody checks a document's framing and returns its elements' bytes.
func docBody(doc []byte) ([]byte, error) {
	if len(doc) < 5 {
		return nil, malformed("document shorter than 5 bytes")
	}
	if n := int(int32(binary.LittleEndian.Uint32(doc))); n != len(doc) {
		return nil, malformed("document length does not match its bytes")
	}
	if doc[len(doc)-1] != 0 {
		return nil, malformed("document does not end with a zero byte")
	}
	return doc[4 : len(doc)-1], nil
}

// nextElement splits the first element off body: its type, key, value and total size.
func nextElement(body []byte) (t byte, key, val []byte, size int, err error) {
	t = body[0]
	k := bytes.IndexByte(body[1:], 0)
	if k < 0 {
		return 0, nil, nil, 0, malformed("unterminated key")
	}
	key = body[1 : 1+k]
	rest := body[2+k:]
	n, ok := valueSize(t, rest)
	if !ok {
		if t == 0 {
			return 0, nil, nil, 0, malformed("zero byte inside a document")
		}
		return 0, nil, nil, 0, malformed(fmt.Sprintf("bad %s value for key %q", bsonTypeName(t), key))
	}
	return t, key, rest[:n], 2 + k + n, nil
}

// planField is one stored key of a document plan.
type planField struct {
	key  string // stored key
	keyz string // key + "\x00", appended after the type byte
	name string // lookup name, for error paths
	off  uintptr
	c    *codec
}

// docPlan encodes and decodes one document shape over a struct's memory.
type docPlan struct {
	fields []planField
	byKey  map[string]int
	// extraOff is the offset of the *embeddedExtra in model.Embedded (embedded models),
	// used when hasExtra is set. Top-level models keep extras in State instead.
	extraOff uintptr
	hasExtra bool
	// strict rejects unknown keys (the members of a composite _id).
	strict bool
}

func newDocPlan(fs []planField) *docPlan {
	pl := &docPlan{fields: fs, byKey: make(map[string]int, len(fs))}
	for i := range pl.fields {
		pl.fields[i].keyz = pl.fields[i].key + "\x00"
		pl.byKey[pl.fields[i].key] = i
	}
	return pl
}

// decode fills the struct at base from doc. Keys not in the plan go to *extra (when
// extra is not nil); skip names one key to ignore (the polymorphic label).
func (pl *docPlan) decode(base unsafe.Pointer, doc []byte, extra *[]bson.RawElement, skip string) error {
	body, err := docBody(doc)
	if err != nil {
		return err
	}
	next := 0
	for len(body) > 0 {
		var f *planField
		var t byte
		var key, val []byte
		var size int
		// Documents written by modjo keep declaration order: try the next field's key
		// (with its terminating zero) in place before scanning for the key's end.
		if next < len(pl.fields) {
			kz := pl.fields[next].keyz
			if len(body) > len(kz) && string(body[1:1+len(kz)]) == kz {
				t = body[0]
				n, ok := valueSize(t, body[1+len(kz):])
				if !ok {
					return malformed(fmt.Sprintf("bad %s value for key %q", bsonTypeName(t), pl.fields[next].key))
				}
				val = body[1+len(kz) : 1+len(kz)+n]
				size = 1 + len(kz) + n
				f = &pl.fields[next]
				next++
			}
		}
		if f == nil {
			var err error
			t, key, val, size, err = nextElement(body)
			if err != nil {
				return err
			}
			if i, ok := pl.byKey[string(key)]; ok {
				f = &pl.fields[i]
				next = i + 1
			}
		}
		elem := body[:size]
		body = body[size:]
		if f == nil {
			if skip != "" && string(key) == skip {
				continue
			}
			if pl.strict {
				return &fault{typ: t, msg: fmt.Sprintf("unexpected key %q", key)}
			}
			if extra != nil {
				*extra = append(*extra, bson.RawElement(bytes.Clone(elem)))
			}
			continue
		}
		if err := f.c.dec(unsafe.Add(base, f.off), t, val); err != nil {
			return withPath(err, f.name)
		}
	}
	return nil
}

// encode appends the document of the struct at base: label (for polymorphic values)
// first, then the plan's fields, then extra elements whose keys the plan does not use.
func (pl *docPlan) encode(dst []byte, base unsafe.Pointer, label string, extra []bson.RawElement) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	if label != "" {
		dst = append(dst, tString)
		dst = append(dst, fields.LabelKey...)
		dst = append(dst, 0)
		dst = appendString(dst, label)
	}
	for i := range pl.fields {
		f := &pl.fields[i]
		hdr := len(dst)
		dst = append(dst, 0)
		dst = append(dst, f.keyz...)
		var t byte
		var err error
		dst, t, err = f.c.enc(dst, unsafe.Add(base, f.off))
		if err != nil {
			return dst, withPath(err, f.name)
		}
		if t == 0 {
			dst = dst[:hdr]
			continue
		}
		dst[hdr] = t
	}
	for _, e := range extra {
		k, err := bsonKey(e)
		if err != nil {
			continue // never written by Decode; drop rather than corrupt the document
		}
		if _, dup := pl.byKey[k]; dup || (label != "" && k == fields.LabelKey) {
			continue
		}
		dst = append(dst, e...)
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}

func bsonKey(e bson.RawElement) (string, error) {
	if len(e) < 2 {
		return "", malformed("short element")
	}
	i := bytes.IndexByte(e[1:], 0)
	if i < 0 {
		return "", malformed("unterminated key")
	}
	return string(e[1 : 1+i]), nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)+1))
	dst = append(dst, s...)
	return append(dst, 0)
}

// readString returns the string of a string/symbol/javascript value.
func readString(v []byte) (string, error) {
	n := len(v)
	if n < 5 || v[n-1] != 0 {
		return "", malformed("string without a terminating zero")
	}
	return string(v[4 : n-1]), nil
}

// arrayKey appends the decimal key of array index i.
func appendIndexKey(dst []byte, i int) []byte {
	if i < 10 {
		return append(dst, byte('0'+i), 0)
	}
	dst = strconv.AppendInt(dst, int64(i), 10)
	return append(dst, 0)
}

// countElements returns the number of elements of an array or document value.
func countElements(doc []byte) (int, error) {
	body, err := docBody(doc)
	if err != nil {
		return 0, err
	}
	n := 0
	for len(body) > 0 {
		_, _, _, size, err := nextElement(body)
		if err != nil {
			return 0, err
		}
		body = body[size:]
		n++
	}
	return n, nil
}

func le32(v []byte) int32                   { return int32(binary.LittleEndian.Uint32(v)) }
func le64(v []byte) int64                   { return int64(binary.LittleEndian.Uint64(v)) }
func f64(v []byte) float64                  { return math.Float64frombits(binary.LittleEndian.Uint64(v)) }
func ptrAt(p unsafe.Pointer) unsafe.Pointer { return *(*unsafe.Pointer)(p) }
