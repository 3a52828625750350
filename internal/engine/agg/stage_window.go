package agg

// $setWindowFields computes, for every document, window functions over a window of the
// documents of its partition: {partitionBy: <expr>, sortBy: <sort spec>, output: {path:
// {<function>: <arg>, window: {...}}}}. As in mongod the documents come out sorted by the
// partition key, then by sortBy (mongod sorts by {partitionKey: 1, ...sortBy} first); the
// outputs are added to each document as $addFields would.

import (
	"math"
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$setWindowFields", parseSetWindowFields)
}

// windowStage is a compiled $setWindowFields.
type windowStage struct {
	partition *expr.Expr     // nil: a single partition
	sorter    *sorter.Sorter // nil: no sortBy (or an empty one)
	sort      winSort
	// sortPath evaluates the single sortBy field, for range windows and the functions
	// that use its values ($derivative, $integral, $linearFill).
	sortPath *expr.Expr
	outputs  []winOutput
}

// winOutput is one output field and its window function.
type winOutput struct {
	path []string
	fn   winFunc
}

// winFunc is a compiled window function.
type winFunc interface {
	// eval stores the function's value for every document of the partition in out
	// (len(out) == len(p.docs)); value.Missing removes the output field.
	eval(c *Context, p *winPartition, out []any) error
}

// winPartition is one partition, sorted.
type winPartition struct {
	docs []bson.D
	st   *windowStage
	// keys caches the documents' sortBy keys (extracted lazily, for the rank functions).
	keys []sorter.Key
	// vals caches the sortBy field's values (evaluated lazily, once per partition).
	vals []any
}

// sortKeys returns the documents' sortBy keys.
func (p *winPartition) sortKeys() ([]sorter.Key, error) {
	if p.keys != nil {
		return p.keys, nil
	}
	keys := make([]sorter.Key, len(p.docs))
	for i, d := range p.docs {
		k, err := p.st.sorter.Key(d)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	p.keys = keys
	return keys, nil
}

// sortValues returns the values of the single sortBy field.
func (p *winPartition) sortValues(c *Context) ([]any, error) {
	if p.vals != nil {
		return p.vals, nil
	}
	vals := make([]any, len(p.docs))
	for i, d := range p.docs {
		v, err := p.st.sortPath.Eval(c.Env, d)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	p.vals = vals
	return vals, nil
}

// rangeValues returns the sortBy values after checking that every one can be the base of
// a range window: numbers, or dates for windows with a unit.
func (p *winPartition) rangeValues(c *Context, unit winTimeUnit) ([]any, error) {
	vals, err := p.sortValues(c)
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		_, isDate := v.(bson.DateTime)
		switch {
		case unit != winNoUnit && !isDate:
			return nil, mongoerr.Newf(5429513, "Invalid range: Expected the sortBy field to be a Date, but it was %s", winTypeName(v))
		case unit == winNoUnit && isDate:
			return nil, mongoerr.Newf(5429413, "Invalid range: For windows that involve date or time ranges, a unit must be provided.")
		case unit == winNoUnit && !value.IsNumber(v):
			return nil, mongoerr.Newf(5429414, "Invalid range: Expected the sortBy field to be a number, but it was %s", winTypeName(v))
		}
	}
	return vals, nil
}

func parseSetWindowFields(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "the $setWindowFields stage specification must be an object, found %s", value.TypeName(spec))
	}
	var partSpec any
	var sortSpec, output bson.D
	var hasPart, hasSort, hasOutput bool
	for _, e := range d {
		switch e.Key {
		case "partitionBy":
			if hasPart {
				return nil, winDuplicateField("$setWindowFields", e.Key)
			}
			partSpec, hasPart = e.Value, true
		case "sortBy":
			if hasSort {
				return nil, winDuplicateField("$setWindowFields", e.Key)
			}
			if sortSpec, ok = e.Value.(bson.D); !ok {
				return nil, winWrongType("$setWindowFields", e.Key, e.Value, "object")
			}
			hasSort = true
		case "output":
			if hasOutput {
				return nil, winDuplicateField("$setWindowFields", e.Key)
			}
			if output, ok = e.Value.(bson.D); !ok {
				return nil, winWrongType("$setWindowFields", e.Key, e.Value, "object")
			}
			hasOutput = true
		default:
			return nil, mongoerr.Newf(40415, "BSON field '$setWindowFields.%s' is an unknown field.", e.Key)
		}
	}
	if !hasOutput {
		return nil, mongoerr.Newf(40414, "BSON field '$setWindowFields.output' is missing but a required field")
	}
	return compileWindowStage(partSpec, hasPart, sortSpec, hasSort, output, o.Vars)
}

// compileWindowStage builds a $setWindowFields stage; $fill compiles through it too.
func compileWindowStage(partSpec any, hasPart bool, sortSpec bson.D, hasSort bool, output bson.D, vars []string) (*windowStage, error) {
	s := &windowStage{}
	if hasPart {
		e, err := expr.Compile(partSpec, vars...)
		if err != nil {
			return nil, err
		}
		c, isConst, err := winConstant(partSpec, vars)
		if err != nil {
			return nil, err
		}
		if _, isArray := c.(bson.A); isConst && isArray {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "An expression used to partition cannot evaluate to value of type array")
		}
		if !isConst {
			// A constant puts every document in one partition.
			s.partition = e
		}
	}
	if hasSort {
		s.sort.present = true
		if len(sortSpec) > 0 {
			so, err := sorter.Compile(sortSpec)
			if err != nil {
				return nil, err
			}
			s.sorter = so
			for _, f := range so.Fields() {
				s.sort.fields = append(s.sort.fields, winSortField{path: f.Path, desc: f.Desc})
			}
			if len(s.sort.fields) == 1 {
				pe, err := expr.Compile("$"+s.sort.fields[0].path, vars...)
				if err != nil {
					return nil, err
				}
				s.sortPath = pe
			}
		}
	}
	for i, e := range output {
		path, err := value.SplitFieldPath(e.Key)
		if err != nil {
			return nil, err
		}
		for _, prev := range output[:i] {
			if winPathsConflict(prev.Key, e.Key) {
				return nil, mongoerr.Newf(6307900, "$setWindowFields 'output' specification contains two conflicting paths")
			}
		}
		fn, err := parseWindowFunction(e.Key, e.Value, &s.sort, vars)
		if err != nil {
			return nil, err
		}
		s.outputs = append(s.outputs, winOutput{path: path, fn: fn})
	}
	return s, nil
}

// winPathsConflict reports whether two output paths are equal or one is a prefix of the
// other.
func winPathsConflict(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || strings.HasPrefix(b, a+".")
}

func winDuplicateField(stageName, field string) error {
	return mongoerr.Newf(40413, "BSON field '%s.%s' is a duplicate field", stageName, field)
}

func winWrongType(stageName, field string, v any, want string) error {
	return mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '%s.%s' is the wrong type '%s', expected type '%s'", stageName, field, winTypeName(v), want)
}

func (s *windowStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		var docs []bson.D
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			docs = append(docs, d)
		}
		parts, err := s.sortDocs(c, docs)
		if err != nil {
			yield(nil, err)
			return
		}
		n := len(docs)
		outs := make([][]any, len(s.outputs))
		for start := 0; start < n; {
			end := n
			if parts != nil {
				end = start + 1
				for end < n && value.Compare(parts[end], parts[start]) == 0 {
					end++
				}
			}
			p := &winPartition{docs: docs[start:end], st: s}
			for k, o := range s.outputs {
				if cap(outs[k]) < end-start {
					outs[k] = make([]any, end-start)
				}
				if err := o.fn.eval(c, p, outs[k][:end-start]); err != nil {
					yield(nil, err)
					return
				}
			}
			for i, d := range p.docs {
				for k, o := range s.outputs {
					d = setPath(d, o.path, outs[k][i])
				}
				if !yield(d, nil) {
					return
				}
			}
			start = end
		}
	}
}

// sortDocs sorts the documents by partition key, then sortBy (stably, so ties keep their
// input order), and returns the partition keys in the new order (nil without partitionBy).
func (s *windowStage) sortDocs(c *Context, docs []bson.D) ([]any, error) {
	if s.partition == nil {
		if s.sorter == nil {
			return nil, nil
		}
		return nil, sorter.SortDocs(docs, s.sorter)
	}
	n := len(docs)
	parts := make([]any, n)
	var keys []sorter.Key
	if s.sorter != nil {
		keys = make([]sorter.Key, n)
	}
	for i, d := range docs {
		v, err := s.partition.Eval(c.Env, d)
		if err != nil {
			return nil, err
		}
		switch v.(type) {
		case bson.A:
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "Cannot 'partitionBy' an expression of type array")
		}
		if value.IsMissing(v) {
			v = nil // missing and null are one partition, as in $group
		}
		parts[i] = v
		if keys != nil {
			if keys[i], err = s.sorter.Key(d); err != nil {
				return nil, err
			}
		}
	}
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		if c := value.Compare(parts[a], parts[b]); c != 0 {
			return c
		}
		if keys != nil {
			return s.sorter.CompareKeys(keys[a], keys[b])
		}
		return 0
	})
	sortedDocs := make([]bson.D, n)
	sortedParts := make([]any, n)
	for i, j := range order {
		sortedDocs[i], sortedParts[i] = docs[j], parts[j]
	}
	copy(docs, sortedDocs)
	return sortedParts, nil
}

// winIntOrLong returns n as an int32 when it fits, as mongod's createIntOrLong.
func winIntOrLong(n int64) any {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n)
	}
	return n
}
