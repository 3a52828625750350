package agg

import (
	"math"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/projection"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$match", parseMatch)
	register("$project", parseProject)
	register("$addFields", parseAddFields("$addFields"))
	register("$set", parseAddFields("$set"))
	register("$unset", parseUnset)
	register("$sort", parseSort)
	register("$skip", parseSkip)
	register("$limit", parseLimit)
	register("$count", parseCount)
	register("$replaceRoot", parseReplaceRoot)
	register("$replaceWith", parseReplaceWith)
}

func parseMatch(spec any, o *Options) (stage, error) {
	filter, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(15959, "the match filter must be an expression in an object")
	}
	m, err := match.Compile(filter, &match.Options{Vars: o.Vars})
	if err != nil {
		return nil, err
	}
	return &matchStage{filter: filter, m: m}, nil
}

func parseProject(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(15969, "$project specification must be an object")
	}
	p, err := projection.Compile(d, projection.Aggregate, o.Vars...)
	if err != nil {
		return nil, err
	}
	return projectStage(p), nil
}

func projectStage(p *projection.Projection) stage {
	return mapStage(func(c *Context, d bson.D) (bson.D, error) {
		return p.Apply(d, &projection.Context{Env: c.Env, Positional: -1})
	})
}

// fieldSetter is one computed field of $addFields: a path and its expression.
type fieldSetter struct {
	path []string
	e    *expr.Expr
}

func parseAddFields(name string) parseFunc {
	return func(spec any, o *Options) (stage, error) {
		d, ok := spec.(bson.D)
		if !ok {
			return nil, mongoerr.Newf(40272, "%s specification stage must be an object, got %s", name, value.TypeName(spec))
		}
		var setters []fieldSetter
		if err := collectSetters(d, nil, o, &setters); err != nil {
			return nil, mongoerr.Newf(mongoerr.From(err).Code, "Invalid %s :: caused by :: %s", name, mongoerr.From(err).Message)
		}
		if err := checkPathConflicts(setters); err != nil {
			return nil, err
		}
		return mapStage(func(c *Context, d bson.D) (bson.D, error) {
			return applySetters(c.Env, d, setters)
		}), nil
	}
}

// collectSetters flattens {a: {b: <expr>}} into the path a.b, as $addFields merges a
// nested object literal into the existing embedded document.
func collectSetters(d bson.D, prefix []string, o *Options, out *[]fieldSetter) error {
	for _, e := range d {
		parts := strings.Split(e.Key, ".")
		for _, p := range parts {
			if p == "" {
				return mongoerr.Newf(40352, "FieldPath cannot be constructed with empty string")
			}
			if strings.HasPrefix(p, "$") {
				return mongoerr.Newf(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.")
			}
		}
		path := append(append([]string(nil), prefix...), parts...)
		if sub, ok := e.Value.(bson.D); ok && len(sub) > 0 && !strings.HasPrefix(sub[0].Key, "$") {
			if err := collectSetters(sub, path, o, out); err != nil {
				return err
			}
			continue
		}
		ex, err := expr.Compile(e.Value, o.Vars...)
		if err != nil {
			return err
		}
		*out = append(*out, fieldSetter{path: path, e: ex})
	}
	return nil
}

func checkPathConflicts(setters []fieldSetter) error {
	for i := range setters {
		for j := range setters {
			if i == j {
				continue
			}
			a, b := setters[i].path, setters[j].path
			if len(a) <= len(b) && slicesEqual(a, b[:len(a)]) && (len(a) < len(b) || i < j) {
				return mongoerr.Newf(40176, "Invalid specification: specification contains two conflicting paths. Cannot specify both '%s' and '%s'", strings.Join(a, "."), strings.Join(b, "."))
			}
		}
	}
	return nil
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// applySetters evaluates every expression against the input document, then writes the
// results into a copy of it.
func applySetters(env *expr.Env, d bson.D, setters []fieldSetter) (bson.D, error) {
	vals := make([]any, len(setters))
	for i, s := range setters {
		v, err := s.e.Eval(env, d)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	out := d
	for i, s := range setters {
		out = setPath(out, s.path, vals[i])
	}
	return out, nil
}

// setPath returns a copy of doc with path set to v (removed when v is missing). Arrays
// on the way get v set in each element; scalars on the way become documents.
func setPath(doc bson.D, path []string, v any) bson.D {
	out := make(bson.D, 0, len(doc)+1)
	found := false
	for _, e := range doc {
		if e.Key != path[0] {
			out = append(out, e)
			continue
		}
		found = true
		if len(path) == 1 {
			if !value.IsMissing(v) {
				out = append(out, bson.E{Key: e.Key, Value: v})
			}
			continue
		}
		out = append(out, bson.E{Key: e.Key, Value: setInValue(e.Value, path[1:], v)})
	}
	if !found {
		switch {
		case len(path) == 1 && !value.IsMissing(v):
			out = append(out, bson.E{Key: path[0], Value: v})
		case len(path) > 1:
			out = append(out, bson.E{Key: path[0], Value: setPath(bson.D{}, path[1:], v)})
		}
	}
	return out
}

func setInValue(cur any, rest []string, v any) any {
	switch x := cur.(type) {
	case bson.D:
		return setPath(x, rest, v)
	case bson.A:
		arr := make(bson.A, len(x))
		for i, el := range x {
			arr[i] = setInValue(el, rest, v)
		}
		return arr
	}
	return setPath(bson.D{}, rest, v)
}

func parseUnset(spec any, o *Options) (stage, error) {
	var paths []string
	switch x := spec.(type) {
	case string:
		paths = []string{x}
	case bson.A:
		if len(x) == 0 {
			return nil, mongoerr.Newf(31119, "$unset specification must be a string or an array with at least one field")
		}
		for _, p := range x {
			s, ok := p.(string)
			if !ok {
				return nil, mongoerr.Newf(31120, "$unset specification must be a string or an array containing only string values")
			}
			paths = append(paths, s)
		}
	default:
		return nil, mongoerr.Newf(31002, "$unset specification must be a string or an array")
	}
	exclusion := make(bson.D, len(paths))
	for i, p := range paths {
		exclusion[i] = bson.E{Key: p, Value: int32(0)}
	}
	p, err := projection.Compile(exclusion, projection.Aggregate, o.Vars...)
	if err != nil {
		return nil, err
	}
	return projectStage(p), nil
}

func parseSort(spec any, _ *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(15973, "the $sort key specification must be an object")
	}
	s, err := sorter.Compile(d)
	if err != nil {
		return nil, err
	}
	return &sortStage{s: s}, nil
}

// stageInt reads the integer argument of $skip or $limit.
func stageInt(name string, spec any) (int64, error) {
	if !value.IsNumber(spec) {
		return 0, mongoerr.Newf(15957, "the %s must be specified as a number", strings.TrimPrefix(name, "$"))
	}
	f, _ := value.ToFloat64(spec)
	n, ok := value.ToInt64(spec)
	if !ok {
		if math.IsNaN(f) || f != math.Trunc(f) {
			return 0, mongoerr.Newf(mongoerr.FailedToParse, "invalid argument to %s stage: Cannot represent as a 64-bit integer: %s: %v", name, name, f)
		}
		return 0, mongoerr.Newf(mongoerr.FailedToParse, "invalid argument to %s stage: Cannot represent as a 64-bit integer", name)
	}
	return n, nil
}

func parseSkip(spec any, _ *Options) (stage, error) {
	n, err := stageInt("$skip", spec)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, mongoerr.Newf(15956, "invalid argument to $skip stage: Expected a non-negative number in: $skip: %d", n)
	}
	return &skipStage{n: n}, nil
}

func parseLimit(spec any, _ *Options) (stage, error) {
	n, err := stageInt("$limit", spec)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, mongoerr.Newf(15958, "invalid argument to $limit stage: Expected a positive number in: $limit: %d", n)
	}
	return &limitStage{n: n}, nil
}

func parseCount(spec any, _ *Options) (stage, error) {
	field, ok := spec.(string)
	switch {
	case !ok || field == "":
		return nil, mongoerr.Newf(40156, "the count field must be a non-empty string")
	case strings.HasPrefix(field, "$"):
		return nil, mongoerr.Newf(40158, "the count field cannot be a $-prefixed path")
	case strings.Contains(field, "."):
		return nil, mongoerr.Newf(40160, "the count field cannot contain '.'")
	}
	return countStage(field), nil
}

// countStage outputs one document {field: n}, or nothing when the input is empty.
type countStage string

func (s countStage) run(_ *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		var n int64
		for _, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			n++
		}
		if n == 0 {
			return
		}
		var v any = n
		if n <= math.MaxInt32 {
			v = int32(n)
		}
		yield(bson.D{{Key: string(s), Value: v}}, nil)
	}
}

func parseReplaceRoot(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40228, "expected an object as specification for $replaceRoot stage, got %s", value.TypeName(spec))
	}
	var newRoot any
	found := false
	for _, e := range d {
		if e.Key != "newRoot" {
			return nil, mongoerr.Newf(40415, "BSON field '$replaceRoot.%s' is an unknown field.", e.Key)
		}
		newRoot, found = e.Value, true
	}
	if !found {
		return nil, mongoerr.Newf(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field")
	}
	return replaceStage(newRoot, o)
}

func parseReplaceWith(spec any, o *Options) (stage, error) { return replaceStage(spec, o) }

func replaceStage(spec any, o *Options) (stage, error) {
	e, err := expr.Compile(spec, o.Vars...)
	if err != nil {
		return nil, err
	}
	return mapStage(func(c *Context, d bson.D) (bson.D, error) {
		v, err := e.Eval(c.Env, d)
		if err != nil {
			return nil, err
		}
		root, ok := v.(bson.D)
		if !ok {
			shown := "MISSING"
			if !value.IsMissing(v) {
				shown = value.TypeName(v)
			}
			return nil, mongoerr.Newf(40228, "'newRoot' expression must evaluate to an object, but resulting value was: %s. Type of resulting value: '%s'.", shown, value.TypeName(v))
		}
		return root, nil
	}), nil
}
