package queryset

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/modjo-orm/modjo/compiler"
	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// column is one selected field of a values query.
type column struct {
	name string
	path *compiler.Path
}

// columns resolves the names of a values query; no names means every field, in
// declaration order (Django's values()).
func (qs *QuerySet[T]) columns(op string, names []string) ([]column, error) {
	if len(names) == 0 {
		names = qs.meta.FieldNames()
	}
	cols := make([]column, len(names))
	for i, name := range names {
		p, err := compiler.Resolve(qs.meta, name)
		if err != nil {
			return nil, wrap(op, qs.meta, err)
		}
		if len(p.Fields) == 0 {
			return nil, &qsError{op: op, model: qs.meta.Name, msg: fmt.Sprintf("%q names no field", name)}
		}
		cols[i] = column{name: name, path: p}
	}
	return cols, nil
}

// rows runs a values query of the columns and hands each row to fn (the slice is fn's
// to keep).
func (qs *QuerySet[T]) rows(ctx context.Context, op string, cols []column, fn func([]any)) error {
	if qs.err != nil {
		return qs.err
	}
	if qs.q.Empty {
		return nil
	}
	c := qs.clone()
	c.q.Fields = make([]string, len(cols))
	for i, col := range cols {
		c.q.Fields[i] = col.name
	}
	c.q.Only, c.q.Defer = nil, nil
	cmd, err := c.compile(op)
	if err != nil {
		return err
	}
	cur, err := c.run(ctx, op, cmd)
	if err != nil {
		return err
	}
	defer closeCursor(ctx, cur)
	// One scratch instance serves every row: Decode resets it, and the values taken
	// out of it are copies or freshly decoded slices and maps.
	var scratch T
	sv := reflect.ValueOf(&scratch).Elem()
	for cur.Next(ctx) {
		if err := qs.meta.Decode(cur.Current, &scratch); err != nil {
			return wrap(op, qs.meta, err)
		}
		row := make([]any, len(cols))
		for i, col := range cols {
			row[i] = qs.extract(&scratch, sv, col.path.Fields)
		}
		fn(row)
	}
	return wrap(op, qs.meta, cur.Err())
}

// extract reads the value at a resolved field path of an instance: the field's Go value,
// dereferenced (a nil pointer gives nil); through an array of sub-documents, a []any of
// the values in each.
func (qs *QuerySet[T]) extract(obj *T, v reflect.Value, fs []*model.Field) any {
	if fs[0].Index == nil { // a composite primary key: its stored sub-document
		pk, _ := qs.meta.PKValue(obj)
		return pk
	}
	return extractValue(v, fs)
}

func extractValue(v reflect.Value, fs []*model.Field) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if len(fs) == 0 {
		return v.Interface()
	}
	if v.Kind() == reflect.Slice {
		out := make([]any, v.Len())
		for i := range out {
			out[i] = extractValue(v.Index(i), fs)
		}
		return out
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	return extractValue(v.FieldByIndex(fs[0].Index), fs[1:])
}

// Values runs the query and returns one map per document, keyed by the given names
// (lookup names, "pk", "__" paths into embedded models such as "shop__city"), or by
// every field's name when none are given: Django's values(). Values have the fields' Go
// types; a nullable (pointer) field gives nil or the value it points to, and a path
// through an array of sub-documents gives a []any.
func (qs *QuerySet[T]) Values(ctx context.Context, fields ...string) ([]map[string]any, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	cols, err := qs.columns("values", fields)
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	err = qs.rows(ctx, "values", cols, func(row []any) {
		m := make(map[string]any, len(cols))
		for i, col := range cols {
			m[col.name] = row[i]
		}
		out = append(out, m)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ValuesList runs the query and returns one slice per document, holding the named
// fields' values in order (every field when none are given): Django's values_list().
// Values are typed as in Values.
func (qs *QuerySet[T]) ValuesList(ctx context.Context, fields ...string) ([][]any, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	cols, err := qs.columns("values list", fields)
	if err != nil {
		return nil, err
	}
	out := [][]any{}
	if err := qs.rows(ctx, "values list", cols, func(row []any) { out = append(out, row) }); err != nil {
		return nil, err
	}
	return out, nil
}

// ValuesFlat runs the query and returns one field's values, typed: Django's
// values_list(field, flat=True).
//
//	titles, err := queryset.ValuesFlat[string](ctx, qs.OrderBy("title"), "title")
//
// V is the field's Go type (string for a string field, bson.ObjectID for "pk" of
// model.Model), any, or for a nullable field (a *time.Time field) either the pointer type
// (nil when null) or the element type (a null is then an error). A path through an array
// of sub-documents gives []any values. A V that cannot hold the field's values is an
// error before anything runs.
func ValuesFlat[V any, T any](ctx context.Context, qs *QuerySet[T], field string) ([]V, error) {
	if qs.err != nil {
		return nil, qs.err
	}
	cols, err := qs.columns("values flat", []string{field})
	if err != nil {
		return nil, err
	}
	conv, err := flatConverter[V](qs.meta, field, cols[0].path)
	if err != nil {
		return nil, err
	}
	out := []V{}
	var convErr error
	err = qs.rows(ctx, "values flat", cols, func(row []any) {
		if convErr != nil {
			return
		}
		var v V
		if v, convErr = conv(row[0]); convErr == nil {
			out = append(out, v)
		}
	})
	if err == nil {
		err = convErr
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// flatConverter checks that V can hold the values of a field path and returns the
// conversion of one extracted value.
func flatConverter[V any](meta *model.Meta, name string, p *compiler.Path) (func(any) (V, error), error) {
	vt := reflect.TypeFor[V]()
	// The type extract gives, after dereferencing pointers.
	var dt reflect.Type
	switch {
	case p.Fields[0].Index == nil:
		dt = reflect.TypeFor[bson.D]()
	case slices.ContainsFunc(p.Fields[:len(p.Fields)-1], func(f *model.Field) bool { return f.Many }):
		dt = reflect.TypeFor[[]any]()
	default:
		dt = p.Fields[len(p.Fields)-1].Type
		for dt.Kind() == reflect.Pointer {
			dt = dt.Elem()
		}
	}
	nilable := func(t reflect.Type) bool {
		switch t.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Slice, reflect.Map:
			return true
		}
		return false
	}
	wrapPtr := vt.Kind() == reflect.Pointer && vt.Elem() == dt
	if !wrapPtr && !dt.AssignableTo(vt) && !(dt.Kind() == reflect.Interface && vt.Kind() == reflect.Interface) {
		return nil, &qsError{op: "values flat", model: meta.Name, msg: fmt.Sprintf("ValuesFlat[%s] cannot hold the values of %s, which are %s", vt, name, dt)}
	}
	return func(x any) (V, error) {
		var zero V
		if x == nil {
			if nilable(vt) {
				return zero, nil
			}
			return zero, &qsError{op: "values flat", model: meta.Name, msg: fmt.Sprintf("%s is null in a document; use ValuesFlat[*%s] or ValuesFlat[any]", name, vt)}
		}
		if v, ok := x.(V); ok {
			return v, nil
		}
		if wrapPtr {
			p := reflect.New(dt)
			p.Elem().Set(reflect.ValueOf(x))
			return p.Interface().(V), nil
		}
		return zero, &qsError{op: "values flat", model: meta.Name, msg: fmt.Sprintf("%s holds a %T, not a %s", name, x, vt)}
	}, nil
}
