package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
)

// Path is a resolved field path: the fields walked ("shop__city" → [shop, city]) and the
// dotted stored path ("shop.city").
type Path struct {
	Fields []*model.Field
	Stored string
}

// Field returns the last field of the path.
func (p *Path) Field() *model.Field { return p.Fields[len(p.Fields)-1] }

// Resolve resolves a field path of m: a lookup name, "pk", or a "__" path into embedded
// models ("shop__city"). An unknown name is a *model.FieldError naming the valid
// choices; a path through an array of sub-documents or into a JSONField wraps
// model.ErrNotSupported.
func Resolve(m *model.Meta, name string) (*Path, error) {
	if m == nil {
		return nil, errNoMeta
	}
	part, rest, more := strings.Cut(name, "__")
	f, err := topField(m, part)
	if err != nil {
		return nil, err
	}
	p := &Path{Fields: []*model.Field{f}, Stored: f.Path}
	for more {
		part, rest, more = strings.Cut(rest, "__")
		consumed := name[:len(name)-len(rest)-sepLen(more)]
		sub, err := descend(m, consumed, f, part)
		if err != nil {
			return nil, err
		}
		if sub == nil {
			var choices []string
			if f.Kind == fields.EmbeddedModelField && f.Embedded != nil {
				choices = sorted(f.Embedded.FieldNames())
			}
			return nil, &model.FieldError{Model: m.Name, Name: consumed, Kind: "field", Choices: choices}
		}
		f = sub
		p.Fields = append(p.Fields, f)
		p.Stored += "." + f.Path
	}
	return p, nil
}

// sepLen is the length of the "__" that follows a part when more parts come.
func sepLen(more bool) int {
	if more {
		return 2
	}
	return 0
}

// topField resolves the first part of a key against the model.
func topField(m *model.Meta, part string) (*model.Field, error) {
	f, ok := m.Field(part)
	if !ok {
		return nil, &model.FieldError{Model: m.Name, Name: part, Kind: "field", Choices: fieldChoices(m)}
	}
	return f, nil
}

// descend resolves part as a field of f's embedded model. It returns (nil, nil) when part
// is not a sub-field, so the caller can try transforms and lookups, and an error wrapping
// model.ErrNotSupported for paths this issue does not cover: into arrays of
// sub-documents, polymorphic sub-documents and JSONField keys.
func descend(m *model.Meta, consumed string, f *model.Field, part string) (*model.Field, error) {
	switch f.Kind {
	case fields.EmbeddedModelField:
		if f.Embedded != nil {
			if sub, ok := f.Embedded.Field(part); ok {
				return sub, nil
			}
		}
	case fields.EmbeddedModelArrayField:
		if f.Embedded != nil {
			if _, ok := f.Embedded.Field(part); ok {
				return nil, fmt.Errorf("%w: %s: %q goes through the array of sub-documents %q (lookups into embedded arrays are not available yet)", model.ErrNotSupported, m.Name, consumed, f.Name)
			}
		}
	case fields.JSONField, fields.PolymorphicEmbeddedModelField, fields.PolymorphicEmbeddedModelArrayField:
		if lookupByName(part) == 0 {
			return nil, fmt.Errorf("%w: %s: %q looks into the %s %q (key and sub-field lookups on it are not available yet)", model.ErrNotSupported, m.Name, consumed, f.Kind, f.Name)
		}
	}
	return nil, nil
}

// fieldChoices lists what a key may start with: the field names and "pk".
func fieldChoices(m *model.Meta) []string {
	names := append(m.FieldNames(), "pk")
	return sorted(names)
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

// maxTransforms bounds a transform chain (published__date__year is two).
const maxTransforms = 3

// target is the resolved left side of a lookup key or F() reference: a field, the
// stored path, the transforms applied to it and the lookup.
type target struct {
	field  *model.Field
	stored string
	trans  [maxTransforms]*transform
	ntrans int
	kind   fields.Kind // what is compared: the field's kind or the last transform's output
	lookup lookupOp    // 0 for F() references
	key    string
}

// transforms returns the applied transforms.
func (t *target) transforms() []*transform { return t.trans[:t.ntrans] }

// parseKey resolves "field[__sub…][__transform…][__lookup]". With withLookup false (F()
// references) the key may not end in a lookup. A key without a lookup means exact.
func parseKey(m *model.Meta, key string, withLookup bool) (target, error) {
	t := target{key: key}
	part, rest, more := strings.Cut(key, "__")
	f, err := topField(m, part)
	if err != nil {
		return t, err
	}
	t.field, t.stored, t.kind = f, f.Path, f.Kind
	for more {
		part, rest, more = strings.Cut(rest, "__")
		consumed := key[:len(key)-len(rest)-sepLen(more)]
		if t.ntrans == 0 {
			sub, err := descend(m, consumed, t.field, part)
			if err != nil {
				return t, err
			}
			if sub != nil {
				t.field, t.kind = sub, sub.Kind
				t.stored += "." + sub.Path
				continue
			}
		}
		if tr := transformByName(part); tr != nil && transformsOf(t.kind)&tr.bit != 0 {
			if t.ntrans == maxTransforms {
				return t, fmt.Errorf("%w: %s: too many transforms in %q", model.ErrNotSupported, m.Name, key)
			}
			t.trans[t.ntrans] = tr
			t.ntrans++
			t.kind = tr.output
			continue
		}
		if op := lookupByName(part); withLookup && !more && op != 0 && lookupsOf(&t)&op.bit() != 0 {
			t.lookup = op
			return t, nil
		}
		return t, t.badPart(m, consumed, withLookup)
	}
	if withLookup {
		t.lookup = opExact
	}
	return t, nil
}

// badPart reports an unknown part of a key, with what would have been valid there.
func (t *target) badPart(m *model.Meta, consumed string, withLookup bool) error {
	var choices []string
	kind := "lookup"
	if t.ntrans == 0 && t.field.Kind == fields.EmbeddedModelField && t.field.Embedded != nil {
		kind = "field"
		choices = append(choices, t.field.Embedded.FieldNames()...)
	}
	if withLookup {
		set := lookupsOf(t)
		for op := lookupOp(1); op < opCount; op++ {
			if set&op.bit() != 0 {
				choices = append(choices, op.String())
			}
		}
	}
	trs := transformsOf(t.kind)
	for _, tr := range transformList {
		if trs&tr.bit != 0 {
			choices = append(choices, tr.name)
		}
	}
	return &model.FieldError{Model: m.Name, Name: consumed, Kind: kind, Choices: sorted(choices)}
}
