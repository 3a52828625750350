package model

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modjo-orm/modjo/fields"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// checkOptions validates a model's Meta options and computes its index specs.
func checkOptions(m *Meta) error {
	o := &m.Options
	fail := func(format string, args ...any) error { return regErr(m.Name, "", format, args...) }
	for _, name := range o.Ordering {
		path := strings.TrimPrefix(name, "-")
		if path == "?" {
			return fail("Ordering %q: random ordering is not supported", name)
		}
		if _, _, err := resolvePath(m, path); err != nil {
			return fail("Ordering %q: %v", name, err)
		}
	}
	var specs []IndexSpec
	add := func(s IndexSpec) error {
		for i, prev := range specs {
			if reflect.DeepEqual(prev.Keys, s.Keys) && prev.PartialFilter == nil && s.PartialFilter == nil &&
				prev.Sparse == s.Sparse && prev.ExpireAfterSeconds == nil && s.ExpireAfterSeconds == nil {
				// One key pattern, two indexes: MongoDB refuses that; the unique one serves both.
				if s.Unique && !prev.Unique {
					specs[i] = s
				}
				return nil
			}
		}
		for _, prev := range specs {
			if prev.Name == s.Name {
				return fail("two indexes are named %q; give one of them another Name", s.Name)
			}
		}
		specs = append(specs, s)
		return nil
	}
	// Unique and indexed fields.
	for _, f := range m.Fields {
		if f.PrimaryKey || !(f.Unique || f.DBIndex) {
			continue
		}
		s := IndexSpec{Keys: bson.D{{Key: f.Path, Value: int32(1)}}, Unique: f.Unique}
		if f.Unique {
			s.PartialFilter = nullFilter(nil, []*Field{f})
		}
		s.Name = defaultIndexName(s.Keys)
		if err := add(s); err != nil {
			return err
		}
	}
	// Declared indexes.
	for i, ix := range o.Indexes {
		if len(ix.Fields) == 0 {
			return fail("Indexes[%d] has no fields", i)
		}
		s := IndexSpec{Name: ix.Name, Unique: ix.Unique, Sparse: ix.Sparse, PartialFilter: ix.PartialFilter}
		var last *Field
		for _, name := range ix.Fields {
			dir := int32(1)
			path := name
			if strings.HasPrefix(name, "-") {
				dir, path = -1, name[1:]
			}
			f, stored, err := resolvePath(m, path)
			if err != nil {
				return fail("Indexes[%d] field %q: %v", i, name, err)
			}
			last = f
			s.Keys = append(s.Keys, bson.E{Key: stored, Value: dir})
		}
		if len(s.Keys) == 1 && s.Keys[0].Key == "_id" {
			return fail("Indexes[%d]: the primary key (_id) is indexed already", i)
		}
		if ix.ExpireAfter != 0 {
			secs := ix.ExpireAfter / time.Second
			switch {
			case ix.ExpireAfter < 0 || ix.ExpireAfter%time.Second != 0 || secs > math.MaxInt32:
				return fail("Indexes[%d]: ExpireAfter must be whole seconds between 0 and 2147483647s", i)
			case len(s.Keys) != 1:
				return fail("Indexes[%d]: a TTL index (ExpireAfter) has exactly one field", i)
			case last.Kind != fields.DateTimeField && last.Kind != fields.DateField &&
				!(last.Kind == fields.ArrayField && (last.ElemKind == fields.DateTimeField || last.ElemKind == fields.DateField)):
				return fail("Indexes[%d]: a TTL index (ExpireAfter) needs a date field, not a %s", i, describeKind(last))
			}
			n := int32(secs)
			s.ExpireAfterSeconds = &n
		}
		if s.Name == "" {
			s.Name = defaultIndexName(s.Keys)
		}
		if err := add(s); err != nil {
			return err
		}
	}
	// Unique constraints and unique_together.
	uniques := func(what string, names []string) ([]*Field, bson.D, error) {
		if len(names) == 0 {
			return nil, nil, fail("%s has no fields", what)
		}
		var fs []*Field
		var keys bson.D
		for _, name := range names {
			f, stored, err := resolvePath(m, name)
			if err != nil {
				return nil, nil, fail("%s field %q: %v", what, name, err)
			}
			fs = append(fs, f)
			keys = append(keys, bson.E{Key: stored, Value: int32(1)})
		}
		return fs, keys, nil
	}
	for i, c := range o.Constraints {
		var uc UniqueConstraint
		switch x := c.(type) {
		case UniqueConstraint:
			uc = x
		case *UniqueConstraint:
			if x == nil {
				return fail("Constraints[%d] is nil", i)
			}
			uc = *x
		default:
			return fail("Constraints[%d]: %w: constraint type %T", i, ErrNotSupported, c)
		}
		if uc.Name == "" {
			return fail("Constraints[%d]: a UniqueConstraint needs a Name", i)
		}
		fs, keys, err := uniques(fmt.Sprintf("UniqueConstraint %q", uc.Name), uc.Fields)
		if err != nil {
			return err
		}
		s := IndexSpec{Name: uc.Name, Keys: keys, Unique: true, PartialFilter: nullFilter(uc.Condition, fs)}
		if err := add(s); err != nil {
			return err
		}
	}
	for i, group := range o.UniqueTogether {
		fs, keys, err := uniques(fmt.Sprintf("UniqueTogether[%d]", i), group)
		if err != nil {
			return err
		}
		s := IndexSpec{Keys: keys, Unique: true, PartialFilter: nullFilter(nil, fs)}
		s.Name = defaultIndexName(keys)
		if err := add(s); err != nil {
			return err
		}
	}
	m.indexSpecs = specs
	return nil
}

// defaultIndexName is MongoDB's own naming: path_dir joined by '_'.
func defaultIndexName(keys bson.D) string {
	parts := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		parts = append(parts, k.Key, strconv.Itoa(int(k.Value.(int32))))
	}
	return strings.Join(parts, "_")
}

// nullFilter adds to cond, for each nullable field, a filter keeping only documents
// where it holds a value: Django treats NULLs as distinct in unique constraints, while a
// MongoDB unique index counts null (and a missing key) as one value. Partial filters
// cannot say $ne: null, so the filter names the stored type.
func nullFilter(cond bson.D, fs []*Field) bson.D {
	out := slices.Clone(cond)
	for _, f := range fs {
		if !f.Null {
			continue
		}
		if slices.ContainsFunc(out, func(e bson.E) bool { return e.Key == f.Path }) {
			continue // the condition already constrains it
		}
		var filter bson.D
		top := f.codec
		for top.ptr {
			top = top.elem
		}
		switch {
		case top.isJSON: // JSON null is a value; only a missing key is SQL NULL
			filter = bson.D{{Key: "$exists", Value: true}}
		case top.kind.IsNumeric() || top.kind == fields.DurationField || top.kind == fields.TimeField:
			filter = bson.D{{Key: "$type", Value: "number"}}
		default:
			filter = bson.D{{Key: "$type", Value: bsonTypeName(top.stored)}}
		}
		out = append(out, bson.E{Key: f.Path, Value: filter})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// IndexSpecs returns every index the model needs: unique and indexed fields,
// Options.Indexes, UniqueConstraints (partial when conditional or nullable) and
// UniqueTogether. The _id index is not listed.
func (m *Meta) IndexSpecs() []IndexSpec {
	out := make([]IndexSpec, len(m.indexSpecs))
	for i, s := range m.indexSpecs {
		s.Keys = slices.Clone(s.Keys)
		s.PartialFilter = slices.Clone(s.PartialFilter)
		if s.ExpireAfterSeconds != nil {
			n := *s.ExpireAfterSeconds
			s.ExpireAfterSeconds = &n
		}
		out[i] = s
	}
	return out
}
