package model

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/modjo-orm/modjo/fields"
)

// builder builds the metadata of one Register call; nothing reaches the registry
// unless the whole call succeeds.
type builder struct {
	r      *Registry
	staged map[reflect.Type]*Meta
	order  []*Meta
	polys  []pendingPoly
}

// pendingPoly is a Polymorphic codec whose types= names are resolved once every type of
// the Register call is known.
type pendingPoly struct {
	m     *Meta
	f     *Field
	c     *codec
	names []string
}

func (b *builder) lookup(t reflect.Type) *Meta {
	if m := b.staged[t]; m != nil {
		return m
	}
	return b.r.byType[t]
}

func regErr(m, field string, format string, args ...any) error {
	return &RegistrationError{Model: m, Field: field, Err: fmt.Errorf(format, args...)}
}

// structKind classifies a struct by its anonymous model.* members.
type structKind struct {
	model, base, embedded int
}

func classify(t reflect.Type, seen map[reflect.Type]bool) structKind {
	var k structKind
	if seen[t] {
		return k
	}
	seen[t] = true
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.Anonymous {
			continue
		}
		switch sf.Type {
		case typeModel:
			k.model++
		case typeBase:
			k.base++
		case typeEmbedded:
			k.embedded++
		default:
			if sf.Type.Kind() == reflect.Struct && sf.Tag.Get("modjo") != "-" {
				s := classify(sf.Type, seen)
				k.model += s.model
				k.base += s.base
				k.embedded += s.embedded
			}
		}
	}
	return k
}

func isEmbeddedStruct(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && classify(t, map[reflect.Type]bool{}).embedded > 0
}

func isModelStruct(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	k := classify(t, map[reflect.Type]bool{})
	return k.model > 0 || k.base > 0
}

// rawField is a Go field found by walking a struct and its abstract bases.
type rawField struct {
	sf    reflect.StructField
	index []int
	off   uintptr
	depth int
	idOf  bool // the ID of model.Model
}

// walk collects the fields of t, promoting those of embedded abstract structs.
type walk struct {
	fields   []rawField
	modelOff uintptr // offset of model.Base (through model.Model or not)
	hasModel bool
	hasBase  bool
	embOff   uintptr
	hasEmb   bool
}

func (w *walk) collect(t reflect.Type, index []int, off uintptr, depth int, name string) error {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		idx := append(append([]int(nil), index...), i)
		tag, hasTag := sf.Tag.Lookup("modjo")
		if sf.Anonymous {
			ft := sf.Type
			switch {
			case ft == typeModel:
				w.hasModel, w.modelOff = true, off+sf.Offset
				idf, _ := typeModel.FieldByName("ID")
				w.fields = append(w.fields, rawField{sf: idf, index: append(idx, idf.Index...), off: off + sf.Offset + idf.Offset, depth: depth + 1, idOf: true})
				continue
			case ft == typeBase:
				w.hasBase, w.modelOff = true, off+sf.Offset
				continue
			case ft == typeEmbedded:
				w.hasEmb, w.embOff = true, off+sf.Offset
				continue
			case tag == "-":
				continue
			case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
				return regErr(name, sf.Name, "embedded pointer %s is not supported: embed the struct itself", ft)
			case ft.Kind() == reflect.Struct && specialStruct(ft):
				return regErr(name, sf.Name, "embedded %s needs a field name", ft)
			case ft.Kind() == reflect.Struct:
				if hasTag && tag != "" {
					return regErr(name, sf.Name, "an embedded struct (abstract base) takes no modjo options")
				}
				if err := w.collect(ft, idx, off+sf.Offset, depth+1, name); err != nil {
					return err
				}
				continue
			}
			// An embedded non-struct type is an ordinary field named after its type.
		}
		if !sf.IsExported() {
			if hasTag && tag != "-" {
				return regErr(name, sf.Name, "unexported field has a modjo tag; export it or drop the tag")
			}
			continue
		}
		if tag == "-" {
			continue
		}
		w.fields = append(w.fields, rawField{sf: sf, index: idx, off: off + sf.Offset, depth: depth})
	}
	return nil
}

// specialStruct reports struct types that are field values, not abstract bases.
func specialStruct(t reflect.Type) bool {
	switch t {
	case typeTime, typeDate, typeDecimal, typeAPD, typeJSON, typePoly:
		return true
	}
	return false
}

// resolveShadowing applies Go's promotion rule: a shallower field hides deeper ones of
// the same name; two at the same depth are ambiguous.
func (w *walk) resolveShadowing(model string) ([]rawField, error) {
	best := map[string]int{}
	for _, f := range w.fields {
		if d, ok := best[f.sf.Name]; !ok || f.depth < d {
			best[f.sf.Name] = f.depth
		}
	}
	var out []rawField
	count := map[string]int{}
	for _, f := range w.fields {
		if f.depth == best[f.sf.Name] {
			count[f.sf.Name]++
			if count[f.sf.Name] > 1 {
				return nil, regErr(model, f.sf.Name, "field %s is declared twice at the same depth (in two embedded structs)", f.sf.Name)
			}
			out = append(out, f)
		}
	}
	return out, nil
}

type optionsMethod interface{ Meta() Options }

var typeOptionsMethod = reflect.TypeFor[optionsMethod]()

// userOptions calls the model's Meta() method, if any.
func userOptions(t reflect.Type) (opts Options, has bool, err error) {
	if !t.Implements(typeOptionsMethod) && !reflect.PointerTo(t).Implements(typeOptionsMethod) {
		return Options{}, false, nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Meta() panicked: %v", p)
		}
	}()
	return reflect.New(t).Interface().(optionsMethod).Meta(), true, nil
}

func newMeta(b *builder, t reflect.Type, embedded bool) *Meta {
	m := &Meta{Name: t.Name(), Type: t, Embedded: embedded, registry: b.r, ptrType: reflect.PointerTo(t),
		byName: map[string]*Field{}}
	b.staged[t] = m
	b.order = append(b.order, m)
	return m
}

// embeddedMeta returns the (possibly staged) meta of an embedded model, building it on
// first use.
func (b *builder) embeddedMeta(t reflect.Type) (*Meta, error) {
	if m := b.lookup(t); m != nil {
		return m, nil
	}
	if t.Name() == "" {
		return nil, regErr(t.String(), "", "an embedded model must be a named struct type")
	}
	k := classify(t, map[reflect.Type]bool{})
	if k.model > 0 || k.base > 0 {
		return nil, regErr(t.Name(), "", "a struct cannot embed both model.Embedded and model.Model/model.Base")
	}
	if k.embedded > 1 {
		return nil, regErr(t.Name(), "", "model.Embedded is embedded more than once")
	}
	m := newMeta(b, t, true)
	w := &walk{}
	if err := w.collect(t, nil, 0, 0, m.Name); err != nil {
		return nil, err
	}
	m.extraOff = w.embOff
	raws, err := w.resolveShadowing(m.Name)
	if err != nil {
		return nil, err
	}
	opts, has, err := userOptions(t)
	if err != nil {
		return nil, regErr(m.Name, "", "%v", err)
	}
	if has && (opts.Collection != "" || len(opts.Ordering) > 0 || len(opts.Indexes) > 0 || len(opts.Constraints) > 0 || len(opts.UniqueTogether) > 0) {
		return nil, regErr(m.Name, "", "an embedded model's Meta() may only set VerboseName and VerboseNamePlural; declare indexes and constraints on the model that stores it, with dotted paths")
	}
	m.Options = Options{VerboseName: opts.VerboseName, VerboseNamePlural: opts.VerboseNamePlural}
	for _, rf := range raws {
		f, err := b.field(m, rf)
		if err != nil {
			return nil, err
		}
		m.Fields = append(m.Fields, f)
	}
	if err := b.indexNames(m); err != nil {
		return nil, err
	}
	m.plan = newDocPlan(planFields(m.Fields))
	m.plan.extraOff, m.plan.hasExtra = m.extraOff, true
	fillVerbose(m)
	return m, nil
}

func planFields(fs []*Field) []planField {
	out := make([]planField, 0, len(fs))
	for _, f := range fs {
		out = append(out, planField{key: f.Column, name: f.Name, off: f.off, c: f.codec})
	}
	return out
}

func fillVerbose(m *Meta) {
	if m.Options.VerboseName == "" {
		m.Options.VerboseName = verboseName(m.Name)
	}
	if m.Options.VerboseNamePlural == "" {
		m.Options.VerboseNamePlural = m.Options.VerboseName + "s"
	}
}

// indexNames fills byName and rejects duplicate lookup names and columns.
func (b *builder) indexNames(m *Meta) error {
	cols := map[string]*Field{}
	for _, f := range m.Fields {
		if prev, dup := m.byName[f.Name]; dup {
			return regErr(m.Name, f.GoName, "lookup name %q is also the name of field %s", f.Name, prev.GoName)
		}
		m.byName[f.Name] = f
		key := f.Path
		if prev, dup := cols[key]; dup {
			return regErr(m.Name, f.GoName, "stored key %q is also used by field %s", key, prev.GoName)
		}
		cols[key] = f
	}
	return nil
}

// modelMeta builds the metadata of a model (a struct embedding model.Model or
// model.Base).
func (b *builder) modelMeta(t reflect.Type) error {
	k := classify(t, map[reflect.Type]bool{})
	switch {
	case k.model == 0 && k.base == 0:
		return regErr(t.Name(), "", "missing model.Model: embed model.Model (or model.Base with a primary_key field)")
	case k.model+k.base > 1:
		return regErr(t.Name(), "", "model.Model or model.Base is embedded more than once")
	}
	m := newMeta(b, t, false)
	w := &walk{}
	if err := w.collect(t, nil, 0, 0, m.Name); err != nil {
		return err
	}
	m.stateOff = w.modelOff
	raws, err := w.resolveShadowing(m.Name)
	if err != nil {
		return err
	}
	var all []*Field
	for _, rf := range raws {
		f, err := b.field(m, rf)
		if err != nil {
			return err
		}
		all = append(all, f)
	}
	// Primary key.
	var pks, rest []*Field
	for _, f := range all {
		if f.PrimaryKey {
			pks = append(pks, f)
		} else {
			rest = append(rest, f)
		}
	}
	switch {
	case w.hasModel && len(pks) > 1:
		for _, f := range pks {
			if f.GoName != "ID" || f.Kind != fields.ObjectIdAutoField {
				return regErr(m.Name, f.GoName, "model.Model already has a primary key (ID): embed model.Base instead to declare your own")
			}
		}
	case w.hasBase && len(pks) == 0:
		return regErr(m.Name, "", "model.Base needs a field tagged primary_key (or embed model.Model for an ObjectID key)")
	}
	if len(pks) == 1 {
		if pks[0].dbColumn {
			return regErr(m.Name, pks[0].GoName, "a primary key is stored as _id; db_column is only for the members of a composite key")
		}
		m.PK = pks[0]
		m.PK.Column, m.PK.Path = "_id", "_id"
	} else {
		for _, f := range pks {
			f.Auto = false
			f.Path = "_id." + f.Column
			if f.Kind.IsAuto() {
				f.Kind = nonAutoKind(f.codec)
			}
		}
		m.PKFields = pks
		m.PK = &Field{Meta: m, Name: "pk", GoName: "", Column: "_id", Path: "_id", Kind: fields.CompositePrimaryKey,
			PrimaryKey: true, Editable: true, VerboseName: "pk", DecimalPlaces: -1}
		m.PK.codec = compositeCodec(planFields(pks))
	}
	m.Fields = append(pks, rest...)
	if err := b.indexNames(m); err != nil {
		return err
	}
	if _, clash := m.byName["pk"]; clash {
		return regErr(m.Name, "", `"pk" is reserved for the primary key`)
	}
	m.byName["pk"] = m.PK
	// Plan: _id first.
	var pfs []planField
	if m.PKFields != nil {
		pfs = append(pfs, planField{key: "_id", name: "pk", off: 0, c: m.PK.codec})
		pfs = append(pfs, planFields(rest)...)
	} else {
		pfs = planFields(m.Fields)
	}
	m.plan = newDocPlan(pfs)

	opts, _, err := userOptions(t)
	if err != nil {
		return regErr(m.Name, "", "%v", err)
	}
	m.Options = opts
	if m.Options.Collection == "" {
		m.Options.Collection = snakeCase(m.Name)
	}
	if err := validCollection(m.Options.Collection); err != nil {
		return regErr(m.Name, "", "collection %q: %v", m.Options.Collection, err)
	}
	m.Collection = m.Options.Collection
	fillVerbose(m)
	return nil
}

func validCollection(s string) error {
	switch {
	case s == "":
		return errors.New("empty name")
	case strings.ContainsAny(s, "$\x00"):
		return errors.New("a collection name cannot contain '$' or a zero byte")
	case strings.HasPrefix(s, "system."):
		return errors.New("the system. prefix is reserved")
	case strings.HasPrefix(s, ".") || strings.HasSuffix(s, "."):
		return errors.New("a collection name cannot start or end with '.'")
	case len(s) > 200:
		return errors.New("name too long")
	}
	return nil
}

// nonAutoKind is the plain integer kind of an integer codec (composite key members are
// never AutoFields).
func nonAutoKind(c *codec) fields.Kind {
	for c.ptr {
		c = c.elem
	}
	return c.kind
}

// finish runs the checks that need every type of the call: polymorphic types,
// duplicate collections, options, and the per-model plans derived from fields.
func (b *builder) finish() error {
	for _, p := range b.polys {
		var ms []*Meta
		for _, name := range p.names {
			var found []*Meta
			for _, cand := range b.order {
				if cand.Embedded && cand.Name == name {
					found = append(found, cand)
				}
			}
			for t, cand := range b.r.byType {
				if cand.Embedded && cand.Name == name && b.staged[t] == nil {
					found = append(found, cand)
				}
			}
			switch len(found) {
			case 0:
				return regErr(p.m.Name, p.f.GoName, "polymorphic type %s is not a registered embedded model (register it: reg.Register(%s{}))", name, name)
			case 1:
			default:
				return regErr(p.m.Name, p.f.GoName, "polymorphic type name %s is ambiguous (several registered embedded models have it)", name)
			}
			for _, fm := range found[0].Fields {
				if fm.Column == fields.LabelKey {
					return regErr(p.m.Name, p.f.GoName, "embedded model %s has a field stored as %q, the polymorphic label key", name, fields.LabelKey)
				}
			}
			ms = append(ms, found[0])
		}
		p.c.poly = ms
		p.f.Polymorphic = ms
	}
	seen := map[string]*Meta{}
	for _, m := range b.order {
		if m.Embedded {
			continue
		}
		if prev := b.r.byColl[m.Collection]; prev != nil {
			return regErr(m.Name, "", "collection %q is already used by model %s", m.Collection, prev.Name)
		}
		if prev := seen[m.Collection]; prev != nil {
			return regErr(m.Name, "", "collection %q is already used by model %s", m.Collection, prev.Name)
		}
		seen[m.Collection] = m
	}
	for _, m := range b.order {
		if !m.Embedded {
			if err := checkOptions(m); err != nil {
				return err
			}
		}
		buildSteps(m)
	}
	return nil
}

// resolvePath resolves a dotted lookup path ("shop.city", "pk", "tags") to its stored
// path and the field it ends at. Past a JSONField the remaining parts are taken as keys.
func resolvePath(m *Meta, path string) (*Field, string, error) {
	parts := strings.Split(path, ".")
	cur := m
	var stored []string
	var last *Field
	for i, p := range parts {
		if cur == nil {
			if last != nil && last.Kind == fields.JSONField {
				stored = append(stored, parts[i:]...)
				break
			}
			return nil, "", &FieldError{Model: m.Name, Name: path, Kind: "field", Choices: m.FieldNames()}
		}
		f, ok := cur.byName[p]
		if !ok {
			return nil, "", &FieldError{Model: cur.Name, Name: p, Kind: "field", Choices: cur.FieldNames()}
		}
		stored = append(stored, f.Path)
		last = f
		cur = f.Embedded
	}
	return last, strings.Join(stored, "."), nil
}

// unsafeOffsetCheck guards the assumption that Base's only field, the *State, is at
// offset 0 (state access adds the Base offset only).
var _ = [1]struct{}{}[unsafe.Offsetof(Base{}.st)]
