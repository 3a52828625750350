package compiler

import (
	"fmt"
	"slices"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// UpdateDoc compiles the values of QuerySet.Update. With constants only it returns a
// bson.D update document, {$set: {stored path: stored value}} plus {$unset: …} for
// JSONFields given no value (the codec's rules, as Meta.EncodeUpdate writes them; nil
// on a nullable field stores null). When a value is an expression it returns a bson.A
// update pipeline, [{$set: …}] (and {$unset: […]}), evaluated atomically on the server
// against the document as it was: constants are then wrapped in $literal, and numeric
// and duration fields convert the result to their stored type ($toInt, $toLong,
// $toDouble, $toDecimal; a DateField truncates to the day).
//
// Names are lookup names, or "__" paths into embedded models. The primary key cannot be
// updated; an unknown field is a *model.FieldError.
func UpdateDoc(m *model.Meta, set expr.Set) (any, error) {
	if m == nil {
		return nil, errNoMeta
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("modjo: %s: an update needs at least one field", m.Name)
	}
	names := make([]string, 0, len(set))
	pipeline := false
	for name, v := range set {
		names = append(names, name)
		if _, n := splitValue(v); n != nil {
			pipeline = true
		}
	}
	slices.Sort(names)
	var sets, unsets bson.D
	var ec *exprCompiler
	if pipeline {
		ec = &exprCompiler{m: m}
	}
	for _, name := range names {
		p, err := Resolve(m, name)
		if err != nil {
			return nil, err
		}
		f := p.Field()
		for _, pf := range p.Fields {
			if pf.PrimaryKey || pf == m.PK {
				return nil, fmt.Errorf("modjo: %s: update of %q: the primary key cannot be changed", m.Name, name)
			}
		}
		val, node := splitValue(set[name])
		if node != nil {
			o, err := ec.compile(node)
			if err != nil {
				return nil, err
			}
			sets = append(sets, bson.E{Key: p.Stored, Value: storedForm(f, o)})
			continue
		}
		v, err := f.ToStored(val)
		if err != nil {
			return nil, fmt.Errorf("%w (in update of %q)", err, name)
		}
		if v == model.Unset {
			unsets = append(unsets, bson.E{Key: p.Stored, Value: ""})
			continue
		}
		if pipeline {
			v = literal(v)
		}
		sets = append(sets, bson.E{Key: p.Stored, Value: v})
	}
	if pipeline {
		stages := bson.A{}
		if sets != nil {
			stages = append(stages, bson.D{{Key: "$set", Value: sets}})
		}
		if unsets != nil {
			keys := make(bson.A, len(unsets))
			for i, e := range unsets {
				keys[i] = e.Key
			}
			stages = append(stages, bson.D{{Key: "$unset", Value: keys}})
		}
		return stages, nil
	}
	upd := bson.D{}
	if sets != nil {
		upd = append(upd, bson.E{Key: "$set", Value: sets})
	}
	if unsets != nil {
		upd = append(upd, bson.E{Key: "$unset", Value: unsets})
	}
	return upd, nil
}

// storedForm converts an expression's result to the field's stored type, as a SQL
// assignment casts to the column's type: F("views") / 2 into an int32 field stays an
// int32 (truncated), so the document still decodes.
func storedForm(f *model.Field, o operand) any {
	conv := ""
	switch {
	case f.Kind.IsInteger():
		conv = "$toLong"
		if isInt32Stored(f) {
			conv = "$toInt"
		}
	case f.Kind == fields.FloatField:
		conv = "$toDouble"
	case f.Kind == fields.DecimalField:
		conv = "$toDecimal"
	case f.Kind == fields.DurationField:
		conv = "$toLong"
	case f.Kind == fields.DateField:
		return truncDay(o.v)
	}
	if conv == "" {
		return o.v
	}
	return bson.D{{Key: conv, Value: o.v}}
}

// isInt32Stored reports an integer field the codec stores as int32.
func isInt32Stored(f *model.Field) bool {
	v, err := f.ToStored(0)
	if err != nil {
		return false
	}
	_, ok := v.(int32)
	return ok
}
