package model

import (
	"reflect"
	"time"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
)

// prepareStep is what PrepareSave does for one field.
type prepareStep struct {
	f        *Field
	autoNow  bool // auto_now, or auto_now_add when adding
	onlyAdd  bool // auto_now_add
	dflt     bool // has a default
	newPK    func() reflect.Value
	embedded bool // recurse into embedded models (defaults and auto_now inside them)
}

// buildSteps prepares m's PrepareSave steps and Validate checks.
func buildSteps(m *Meta) {
	m.prepares = nil
	for _, f := range m.Fields {
		st := prepareStep{f: f, autoNow: f.AutoNow || f.AutoNowAdd, onlyAdd: f.AutoNowAdd, dflt: f.HasDefault}
		if f.PrimaryKey && m.PKFields == nil {
			switch {
			case f.Kind == fields.ObjectIdAutoField:
				st.newPK = func() reflect.Value { return reflect.ValueOf(newObjectID()) }
			case f.Kind == fields.UUIDField:
				t := f.Type
				st.newPK = func() reflect.Value { return reflect.ValueOf(newUUID()).Convert(t) }
			}
		}
		c := f.codec
		for c.ptr || c.slice {
			c = c.elem
		}
		st.embedded = c.meta != nil || c.kind == fields.PolymorphicEmbeddedModelField
		if st.autoNow || st.dflt || st.newPK != nil || st.embedded {
			m.prepares = append(m.prepares, st)
		}
	}
	m.checks = buildChecks(m)
}

// PrepareSave readies obj (a *T of this model) for saving, as Django's pre_save does:
//
//   - when adding, zero-valued fields with a default get it (a zero value cannot be told
//     from an unset one: use a pointer type to save a zero value over a default);
//   - auto_now fields get now, and auto_now_add fields too when adding;
//   - when adding, a zero ObjectID or UUID primary key gets a new value (integer
//     AutoFields are allocated by the database handle);
//   - every time.Time, here and in embedded models, is truncated to the millisecond and
//     converted to UTC, so what the program holds equals what is stored.
//
// now is the save time; the zero time means time.Now().
func (m *Meta) PrepareSave(obj any, adding bool, now time.Time) error {
	p, err := m.ptr(obj)
	if err != nil {
		return err
	}
	if now.IsZero() {
		now = time.Now()
	}
	m.prepare(p, adding, truncTime(now))
	m.normalize(p)
	return nil
}

func (m *Meta) prepare(p unsafe.Pointer, adding bool, now time.Time) {
	for i := range m.prepares {
		st := &m.prepares[i]
		f := st.f
		fp := unsafe.Add(p, f.off)
		switch {
		case st.autoNow && (!st.onlyAdd || adding):
			setValue(f, fp, nowValue(f, now))
		case st.dflt && adding && f.codec.isZero(fp):
			setValue(f, fp, f.defaultFn(now))
		}
		if st.newPK != nil && adding && f.codec.isZero(fp) {
			setValue(f, fp, st.newPK())
		}
		if st.embedded {
			prepareNested(f.codec, fp, adding, now)
		}
	}
}

// prepareNested applies defaults and auto_now inside embedded models.
func prepareNested(c *codec, p unsafe.Pointer, adding bool, now time.Time) {
	switch {
	case c.ptr:
		if q := ptrAt(p); q != nil {
			prepareNested(c.elem, q, adding, now)
		}
	case c.slice:
		h := (*sliceHeader)(p)
		size := c.elem.typ.Size()
		for i := 0; i < h.Len; i++ {
			prepareNested(c.elem, unsafe.Add(h.Data, uintptr(i)*size), adding, now)
		}
	case c.meta != nil:
		c.meta.prepare(p, adding, now)
	case c.kind == fields.PolymorphicEmbeddedModelField:
		v := (*fields.Polymorphic)(p).Value
		if v == nil {
			return
		}
		rv := reflect.ValueOf(v)
		for _, m := range c.poly {
			if rv.Type() == m.ptrType && !rv.IsNil() {
				m.prepare(rv.UnsafePointer(), adding, now)
				return
			}
			if rv.Type() == m.Type {
				cp := reflect.New(m.Type)
				cp.Elem().Set(rv)
				m.prepare(cp.UnsafePointer(), adding, now)
				(*fields.Polymorphic)(p).Value = cp.Elem().Interface()
				return
			}
		}
	}
}

func nowValue(f *Field, now time.Time) reflect.Value {
	t := f.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case typeDate:
		return reflect.ValueOf(fields.DateOf(now))
	case typeTimeOfDay:
		return reflect.ValueOf(fields.TimeOfDayOf(now))
	}
	return reflect.ValueOf(now)
}

// setValue stores v (of the field's non-pointer type) into the field at p, allocating
// the target of a pointer field.
func setValue(f *Field, p unsafe.Pointer, v reflect.Value) {
	dst := reflect.NewAt(f.Type, p).Elem()
	if f.Type.Kind() == reflect.Pointer {
		nv := reflect.New(f.Type.Elem())
		nv.Elem().Set(v.Convert(f.Type.Elem()))
		dst.Set(nv)
		return
	}
	dst.Set(v.Convert(f.Type))
}
