package model

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func newObjectID() bson.ObjectID { return bson.NewObjectID() }

// DecodeError reports a stored document that does not fit the model: a value of the
// wrong BSON type, a number out of range, or malformed BSON.
type DecodeError struct {
	Model string
	// Field is the dotted lookup path of the value ("title", "shop.city", "tags.3"), ""
	// when the document itself is malformed.
	Field string
	// Type is the stored BSON type ($type alias such as "string"), "" when unknown.
	Type string
	// ID is the document's _id (as JSONField values load), nil when it has none.
	ID  any
	Err error
}

// Error describes the problem with the model, _id and field.
func (e *DecodeError) Error() string {
	id := "without _id"
	if e.ID != nil {
		id = fmt.Sprintf("_id %s", formatID(e.ID))
	}
	if e.Field == "" {
		return fmt.Sprintf("modjo: cannot load %s document %s: %v", e.Model, id, e.Err)
	}
	return fmt.Sprintf("modjo: cannot load %s document %s: field %s: %v", e.Model, id, e.Field, e.Err)
}

// Unwrap returns the underlying reason.
func (e *DecodeError) Unwrap() error { return e.Err }

func formatID(id any) string {
	switch x := id.(type) {
	case bson.ObjectID:
		return fmt.Sprintf("ObjectID(%q)", x.Hex())
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(id)
}

// EncodeError reports an instance that cannot be stored, such as a time outside the
// BSON date range or a polymorphic value of a type not listed in types=.
type EncodeError struct {
	Model string
	Field string // dotted lookup path
	Err   error
}

// Error describes the problem with the model and field.
func (e *EncodeError) Error() string {
	return fmt.Sprintf("modjo: cannot store %s: field %s: %v", e.Model, e.Field, e.Err)
}

// Unwrap returns the underlying reason.
func (e *EncodeError) Unwrap() error { return e.Err }

func (m *Meta) encodeError(err error) error {
	var f *fault
	if errors.As(err, &f) {
		return &EncodeError{Model: m.Name, Field: f.pathString(), Err: errors.New(f.msg)}
	}
	return &EncodeError{Model: m.Name, Err: err}
}

func (m *Meta) decodeError(raw []byte, err error) error {
	e := &DecodeError{Model: m.Name, Err: err}
	var f *fault
	if errors.As(err, &f) {
		e.Field = f.pathString()
		if f.typ != 0 {
			e.Type = bsonTypeName(f.typ)
		}
		e.Err = errors.New(f.msg)
	}
	if body, err := docBody(raw); err == nil {
		for len(body) > 0 {
			t, key, val, size, err := nextElement(body)
			if err != nil {
				break
			}
			body = body[size:]
			if string(key) == "_id" {
				if id, err := decodeAny(t, val, 0); err == nil {
					e.ID = id
				}
				break
			}
		}
	}
	return e
}

// state returns the address of the instance's *State (models only).
func (m *Meta) state(p unsafe.Pointer) **State {
	return &(*Base)(unsafe.Add(p, m.stateOff)).st
}

// Encode returns obj (a *T of this model) as a BSON document: _id first, then the fields
// in declaration order, then the unknown keys kept from the last Decode (State.Extra,
// and likewise inside embedded sub-documents). It does not apply defaults or truncate
// times: PrepareSave does.
func (m *Meta) Encode(obj any) (bson.Raw, error) {
	p, err := m.ptr(obj)
	if err != nil {
		return nil, err
	}
	var extra []bson.RawElement
	if m.Embedded {
		extra = m.extrasAt(p)
	} else if st := *m.state(p); st != nil {
		extra = st.Extra
	}
	buf := make([]byte, 0, m.sizeHint.Load()+64)
	buf, err = m.plan.encode(buf, p, "", extra)
	if err != nil {
		return nil, m.encodeError(err)
	}
	m.sizeHint.Store(int64(len(buf)))
	return bson.Raw(buf), nil
}

// Decode fills obj (a *T of this model) from a stored document, straight from its bytes.
// Every field is reset first: a missing key (or BSON null in a non-pointer field)
// leaves the zero value, a nil pointer, or "no value" in a JSONField. Keys the model
// does not declare are kept in State.Extra (for embedded sub-documents, in their
// model.Embedded) so that Encode writes them back. State.Loaded is set; State.Deferred
// is left as it was. A value that does not fit its field is a *DecodeError naming the
// field, the stored type and the document's _id; obj is then partly filled.
func (m *Meta) Decode(raw bson.Raw, obj any) error {
	p, err := m.ptr(obj)
	if err != nil {
		return err
	}
	if m.Embedded {
		reflect.NewAt(m.Type, p).Elem().SetZero()
		if err := m.decodeEmbedded(p, raw, ""); err != nil {
			return m.decodeError(raw, err)
		}
		return nil
	}
	sp := m.state(p)
	st := *sp
	reflect.NewAt(m.Type, p).Elem().SetZero()
	var extra []bson.RawElement
	err = m.plan.decode(p, raw, &extra, "")
	if st == nil {
		st = &State{}
	}
	st.Loaded, st.Extra = true, extra
	*sp = st
	if err != nil {
		st.Loaded = false
		return m.decodeError(raw, err)
	}
	return nil
}

// Unset is the value EncodeFields gives a JSONField that holds no value: it must be
// written with $unset, not $set (EncodeUpdate does that). Marshalling Unset fails, so a
// misplaced one cannot be stored by accident.
var Unset UnsetValue

// UnsetValue is the type of Unset.
type UnsetValue struct{}

// MarshalBSONValue refuses to encode: Unset belongs in $unset.
func (UnsetValue) MarshalBSONValue() (byte, []byte, error) {
	return 0, nil, errors.New("modjo: model.Unset cannot be stored; write the key with $unset")
}

// EncodeFields returns the stored values of the named fields (lookup names, or "pk") of
// obj, keyed by stored path, for a $set of chosen fields. Values are bson.RawValue; a
// JSONField without a value gives Unset. Composite key members are keyed "_id.<column>".
func (m *Meta) EncodeFields(obj any, names []string) (bson.D, error) {
	p, err := m.ptr(obj)
	if err != nil {
		return nil, err
	}
	out := make(bson.D, 0, len(names))
	for _, name := range names {
		f, ok := m.byName[name]
		if !ok {
			return nil, &FieldError{Model: m.Name, Name: name, Kind: "field", Choices: m.FieldNames()}
		}
		off := f.off
		if f.Kind == fields.CompositePrimaryKey {
			off = 0
		}
		buf, t, err := f.codec.enc(nil, unsafe.Add(p, off))
		if err != nil {
			return nil, m.encodeError(withPath(err, f.Name))
		}
		if t == 0 {
			out = append(out, bson.E{Key: f.Path, Value: Unset})
			continue
		}
		out = append(out, bson.E{Key: f.Path, Value: bson.RawValue{Type: bson.Type(t), Value: buf}})
	}
	return out, nil
}

// EncodeUpdate returns an update document writing the named fields of obj:
// {$set: {...}} and, for JSONFields without a value, {$unset: {...}}.
func (m *Meta) EncodeUpdate(obj any, names []string) (bson.D, error) {
	vals, err := m.EncodeFields(obj, names)
	if err != nil {
		return nil, err
	}
	var set, unset bson.D
	for _, e := range vals {
		if _, ok := e.Value.(UnsetValue); ok {
			unset = append(unset, bson.E{Key: e.Key, Value: ""})
		} else {
			set = append(set, e)
		}
	}
	var upd bson.D
	if set != nil {
		upd = append(upd, bson.E{Key: "$set", Value: set})
	}
	if unset != nil {
		upd = append(upd, bson.E{Key: "$unset", Value: unset})
	}
	return upd, nil
}

// PKValue returns obj's stored _id value — bson.ObjectID, int32 or int64, string,
// bson.Binary (UUIDs), or for a composite key a bson.D of the members' columns in
// declaration order — and whether it is set (not the zero value; for a composite key,
// any member not zero).
func (m *Meta) PKValue(obj any) (v any, set bool) {
	if m.PK == nil {
		return nil, false
	}
	p, err := m.ptr(obj)
	if err != nil {
		return nil, false
	}
	off := m.PK.off
	if m.PKFields != nil {
		off = 0
	}
	fp := unsafe.Add(p, off)
	set = !m.PK.codec.isZero(fp)
	buf, t, err := m.PK.codec.enc(nil, fp)
	if err != nil {
		return nil, set
	}
	if m.PKFields != nil {
		d := make(bson.D, 0, len(m.PKFields))
		body := buf[4 : len(buf)-1]
		for len(body) > 0 {
			et, key, val, size, err := nextElement(body)
			if err != nil {
				return nil, set
			}
			body = body[size:]
			x, _ := decodeAny(et, val, 0)
			d = append(d, bson.E{Key: string(key), Value: x})
		}
		return d, set
	}
	x, err := decodeAny(t, buf, 0)
	if err != nil {
		return nil, set
	}
	return x, set
}

// SetPK sets obj's primary key from a stored _id value: bson.ObjectID, an integer,
// a string, bson.Binary or a [16]byte UUID, or for a composite key a sub-document
// (bson.D, bson.M, bson.Raw) of the members' columns.
func (m *Meta) SetPK(obj any, v any) error {
	if m.PK == nil {
		return fmt.Errorf("modjo: %s is an embedded model and has no primary key", m.Name)
	}
	p, err := m.ptr(obj)
	if err != nil {
		return err
	}
	if m.PKFields == nil && m.PK.Kind == fields.UUIDField {
		if rv := reflect.ValueOf(v); rv.IsValid() && rv.Kind() == reflect.Array && rv.Type().ConvertibleTo(reflect.TypeFor[[16]byte]()) {
			*(*[16]byte)(unsafe.Add(p, m.PK.off)) = rv.Convert(reflect.TypeFor[[16]byte]()).Interface().([16]byte)
			return nil
		}
	}
	t, data, err := bson.MarshalValue(v)
	if err != nil {
		return fmt.Errorf("modjo: %s: cannot use a %T as the primary key: %w", m.Name, v, err)
	}
	off := m.PK.off
	if m.PKFields != nil {
		off = 0
		for _, f := range m.PKFields {
			reflect.NewAt(f.Type, unsafe.Add(p, f.off)).Elem().SetZero()
		}
	}
	if err := m.PK.codec.dec(unsafe.Add(p, off), byte(t), data); err != nil {
		msg := err.Error()
		if f, ok := err.(*fault); ok && len(f.path) > 0 {
			msg = f.pathString() + ": " + msg
		}
		return fmt.Errorf("modjo: %s: cannot use %v as the primary key: %s", m.Name, v, msg)
	}
	return nil
}
