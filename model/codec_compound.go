package model

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sliceHeader mirrors the runtime layout of a slice; Data is an unsafe.Pointer so that
// assignments keep the garbage collector informed.
type sliceHeader struct {
	Data unsafe.Pointer
	Len  int
	Cap  int
}

func ptrCodec(typ reflect.Type, elem *codec) *codec {
	et := typ.Elem()
	c := &codec{typ: typ, kind: elem.kind, stored: elem.stored, elem: elem, ptr: true, meta: elem.meta, isJSON: elem.isJSON}
	c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
		q := ptrAt(p)
		if q == nil {
			return dst, tNull, nil
		}
		return elem.enc(dst, q)
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		if t == tNull {
			*(*unsafe.Pointer)(p) = nil
			return nil
		}
		q := reflect.New(et).UnsafePointer()
		if err := elem.dec(q, t, v); err != nil {
			return err
		}
		*(*unsafe.Pointer)(p) = q
		return nil
	}
	c.isZero = func(p unsafe.Pointer) bool { return ptrAt(p) == nil }
	if elem.norm != nil {
		c.norm = func(p unsafe.Pointer) {
			if q := ptrAt(p); q != nil {
				elem.norm(q)
			}
		}
	}
	return c
}

func allocOf[T any](n int) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(make([]T, n))) }

// sliceAllocator returns a function allocating n zeroed elements of et. Common element
// types allocate through make with a type of identical layout, which avoids reflect's
// extra slice-header allocation.
func sliceAllocator(et reflect.Type) func(n int) unsafe.Pointer {
	switch {
	case et == typeTime:
		return allocOf[time.Time]
	case et == typeObjectID:
		return allocOf[bson.ObjectID]
	case et == typeDecimal:
		return allocOf[bson.Decimal128]
	case et == typeDate:
		return allocOf[fields.Date]
	}
	switch et.Kind() {
	case reflect.String:
		return allocOf[string]
	case reflect.Int8, reflect.Uint8, reflect.Bool:
		return allocOf[uint8]
	case reflect.Int16, reflect.Uint16:
		return allocOf[uint16]
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return allocOf[uint32]
	case reflect.Int64, reflect.Int, reflect.Float64:
		return allocOf[uint64]
	case reflect.Pointer:
		return allocOf[unsafe.Pointer]
	case reflect.Array:
		if et.Elem().Kind() == reflect.Uint8 && et.Len() == 16 {
			return allocOf[[16]byte]
		}
	}
	st := reflect.SliceOf(et)
	return func(n int) unsafe.Pointer { return reflect.MakeSlice(st, n, n).UnsafePointer() }
}

func sliceCodec(typ reflect.Type, elem *codec) *codec {
	size := typ.Elem().Size()
	alloc := sliceAllocator(typ.Elem())
	kind := fields.ArrayField
	switch elem.kind {
	case fields.EmbeddedModelField:
		kind = fields.EmbeddedModelArrayField
	case fields.PolymorphicEmbeddedModelField:
		kind = fields.PolymorphicEmbeddedModelArrayField
	}
	want := typ.String()
	c := &codec{typ: typ, kind: kind, stored: tArray, elem: elem, slice: true, meta: elem.meta}
	c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
		h := (*sliceHeader)(p)
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		for i := 0; i < h.Len; i++ {
			hdr := len(dst)
			dst = append(dst, 0)
			dst = appendIndexKey(dst, i)
			var t byte
			var err error
			dst, t, err = elem.enc(dst, unsafe.Add(h.Data, uintptr(i)*size))
			if err != nil {
				return dst, 0, withPath(err, strconv.Itoa(i))
			}
			if t == 0 { // an array has no way to leave an element out
				t = tNull
			}
			dst[hdr] = t
		}
		dst = append(dst, 0)
		binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
		return dst, tArray, nil
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		switch t {
		case tArray:
		case tNull:
			*(*sliceHeader)(p) = sliceHeader{}
			return nil
		default:
			return typeFault(t, want)
		}
		n, err := countElements(v)
		if err != nil {
			return err
		}
		if n == 0 {
			*(*sliceHeader)(p) = sliceHeader{}
			return nil
		}
		data := alloc(n)
		body := v[4 : len(v)-1]
		for i := 0; i < n; i++ {
			et, _, val, sz, err := nextElement(body)
			if err != nil {
				return err
			}
			body = body[sz:]
			if err := elem.dec(unsafe.Add(data, uintptr(i)*size), et, val); err != nil {
				return withPath(err, strconv.Itoa(i))
			}
		}
		*(*sliceHeader)(p) = sliceHeader{Data: data, Len: n, Cap: n}
		return nil
	}
	c.isZero = func(p unsafe.Pointer) bool { return (*sliceHeader)(p).Len == 0 }
	if elem.norm != nil {
		c.norm = func(p unsafe.Pointer) {
			h := (*sliceHeader)(p)
			for i := 0; i < h.Len; i++ {
				elem.norm(unsafe.Add(h.Data, uintptr(i)*size))
			}
		}
	}
	return c
}

// embeddedExtra keeps the unknown keys of an embedded sub-document.
type embeddedExtra struct {
	elems []bson.RawElement
}

func (m *Meta) extrasAt(p unsafe.Pointer) []bson.RawElement {
	if x := (*Embedded)(unsafe.Add(p, m.extraOff)).extra; x != nil {
		return x.elems
	}
	return nil
}

func embeddedCodec(typ reflect.Type, m *Meta) *codec {
	want := typ.String()
	c := &codec{typ: typ, kind: fields.EmbeddedModelField, stored: tDocument, meta: m}
	c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
		dst, err := m.plan.encode(dst, p, "", m.extrasAt(p))
		return dst, tDocument, err
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		switch t {
		case tDocument:
			return m.decodeEmbedded(p, v, "")
		case tNull:
			reflect.NewAt(typ, p).Elem().SetZero()
			return nil
		}
		return typeFault(t, want)
	}
	c.isZero = func(p unsafe.Pointer) bool { return reflect.NewAt(typ, p).Elem().IsZero() }
	c.norm = func(p unsafe.Pointer) { m.normalize(p) }
	return c
}

// decodeEmbedded decodes a sub-document into the embedded struct at p.
func (m *Meta) decodeEmbedded(p unsafe.Pointer, doc []byte, skip string) error {
	var extra []bson.RawElement
	if err := m.plan.decode(p, doc, &extra, skip); err != nil {
		return err
	}
	e := (*Embedded)(unsafe.Add(p, m.extraOff))
	if len(extra) > 0 {
		e.extra = &embeddedExtra{elems: extra}
	} else {
		e.extra = nil
	}
	return nil
}

// normalize truncates the time.Time values of the struct at p (a model or embedded
// model) to the millisecond in UTC.
func (m *Meta) normalize(p unsafe.Pointer) {
	for i := range m.plan.fields {
		f := &m.plan.fields[i]
		if f.c.norm != nil {
			f.c.norm(unsafe.Add(p, f.off))
		}
	}
}

func polyNames(ms []*Meta) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// polyTarget finds the embedded model of a polymorphic value and a pointer to its
// struct (nil for a nil *T). A T held by value is copied so the codec can address it.
func polyTarget(v any, ms []*Meta) (*Meta, unsafe.Pointer, error) {
	rv := reflect.ValueOf(v)
	for _, m := range ms {
		switch rv.Type() {
		case m.ptrType:
			return m, rv.UnsafePointer(), nil
		case m.Type:
			cp := reflect.New(m.Type)
			cp.Elem().Set(rv)
			return m, cp.UnsafePointer(), nil
		}
	}
	return nil, nil, &fault{msg: fmt.Sprintf("a %T is not one of the polymorphic types (%s)", v, polyNames(ms))}
}

// findLabel returns the polymorphic label of a sub-document.
func findLabel(doc []byte) (string, bool, error) {
	body, err := docBody(doc)
	if err != nil {
		return "", false, err
	}
	for len(body) > 0 {
		t, key, val, size, err := nextElement(body)
		if err != nil {
			return "", false, err
		}
		body = body[size:]
		if string(key) == fields.LabelKey {
			if t != tString {
				return "", false, &fault{typ: t, msg: "the polymorphic label " + fields.LabelKey + " is not a string"}
			}
			s, err := readString(val)
			return s, err == nil, err
		}
	}
	return "", false, nil
}

func polyCodec(typ reflect.Type, c *codec) {
	c.typ, c.kind, c.stored = typ, fields.PolymorphicEmbeddedModelField, tDocument
	c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
		v := (*fields.Polymorphic)(p).Value
		if v == nil {
			return dst, tNull, nil
		}
		m, q, err := polyTarget(v, c.poly)
		if err != nil {
			return dst, 0, err
		}
		if q == nil {
			return dst, tNull, nil
		}
		dst, err = m.plan.encode(dst, q, m.Name, m.extrasAt(q))
		return dst, tDocument, err
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		switch t {
		case tNull:
			(*fields.Polymorphic)(p).Value = nil
			return nil
		case tDocument:
		default:
			return typeFault(t, "fields.Polymorphic")
		}
		label, ok, err := findLabel(v)
		if err != nil {
			return err
		}
		if !ok {
			return &fault{typ: t, msg: "the sub-document has no " + fields.LabelKey + " key naming its type"}
		}
		for _, m := range c.poly {
			if m.Name == label {
				nv := reflect.New(m.Type)
				if err := m.decodeEmbedded(nv.UnsafePointer(), v, fields.LabelKey); err != nil {
					return err
				}
				(*fields.Polymorphic)(p).Value = nv.Interface()
				return nil
			}
		}
		return &fault{typ: t, msg: fmt.Sprintf("polymorphic label %q is not one of %s", label, polyNames(c.poly))}
	}
	c.isZero = func(p unsafe.Pointer) bool { return (*fields.Polymorphic)(p).Value == nil }
	c.norm = func(p unsafe.Pointer) {
		pv := (*fields.Polymorphic)(p)
		if pv.Value == nil {
			return
		}
		rv := reflect.ValueOf(pv.Value)
		for _, m := range c.poly {
			switch rv.Type() {
			case m.ptrType:
				if !rv.IsNil() {
					m.normalize(rv.UnsafePointer())
				}
				return
			case m.Type:
				cp := reflect.New(m.Type)
				cp.Elem().Set(rv)
				m.normalize(cp.UnsafePointer())
				pv.Value = cp.Elem().Interface()
				return
			}
		}
	}
}

// compositeCodec stores the members of a composite primary key as the _id sub-document;
// it works on the model struct itself (offset 0).
func compositeCodec(members []planField) *codec {
	pl := newDocPlan(members)
	pl.strict = true
	c := &codec{kind: fields.CompositePrimaryKey, stored: tDocument}
	c.enc = func(dst []byte, p unsafe.Pointer) ([]byte, byte, error) {
		dst, err := pl.encode(dst, p, "", nil)
		return dst, tDocument, err
	}
	c.dec = func(p unsafe.Pointer, t byte, v []byte) error {
		if t != tDocument {
			return typeFault(t, "a composite primary key")
		}
		return pl.decode(p, v, nil, "")
	}
	c.isZero = func(p unsafe.Pointer) bool {
		for i := range pl.fields {
			if !pl.fields[i].c.isZero(unsafe.Add(p, pl.fields[i].off)) {
				return false
			}
		}
		return true
	}
	return c
}
