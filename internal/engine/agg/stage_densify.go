package agg

// $densify adds documents where a numeric or date field skips values of a regular
// sequence: {field, partitionByFields, range: {step, unit, bounds}}. The sequence starts
// at the lower bound of the range ("full": the smallest value in the input, "partition":
// each partition's smallest value, [lo, hi]: lo) and advances by step; every value of it
// inside the range that a partition lacks becomes a new document holding only the
// partition fields and the field. The range is [lo, hi) for explicit bounds, up to the
// largest value otherwise. Documents without the field (or with null) pass unchanged.

import (
	"hash/maphash"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$densify", parseDensify)
}

// densifyMaxDocs is mongod's default internalQueryMaxAllowedDensifyDocs (a variable so
// that tests can lower it).
var densifyMaxDocs = 500000

type densifyMode uint8

const (
	densifyFull densifyMode = iota
	densifyPartition
	densifyExplicit
)

type densifyStage struct {
	field      []string
	partitions [][]string
	step       any
	unit       winTimeUnit
	stepInt    int64 // step, for dates
	mode       densifyMode
	lo, hi     any // explicit bounds
	sorter     *sorter.Sorter
}

func parseDensify(spec any, _ *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "The $densify stage specification must be an object, found %s", value.TypeName(spec))
	}
	var field string
	var partNames []string
	var rng bson.D
	var hasField, hasParts, hasRange bool
	for _, e := range d {
		switch e.Key {
		case "field":
			if hasField {
				return nil, winDuplicateField("$densify", e.Key)
			}
			if field, ok = e.Value.(string); !ok {
				return nil, winWrongType("$densify", e.Key, e.Value, "string")
			}
			hasField = true
		case "partitionByFields":
			if hasParts {
				return nil, winDuplicateField("$densify", e.Key)
			}
			names, err := stringArray("$densify", e.Key, e.Value)
			if err != nil {
				return nil, err
			}
			partNames, hasParts = names, true
		case "range":
			if hasRange {
				return nil, winDuplicateField("$densify", e.Key)
			}
			if rng, ok = e.Value.(bson.D); !ok {
				return nil, winWrongType("$densify", e.Key, e.Value, "object")
			}
			hasRange = true
		default:
			return nil, mongoerr.Newf(40415, "BSON field '$densify.%s' is an unknown field.", e.Key)
		}
	}
	if !hasField {
		return nil, mongoerr.Newf(40414, "BSON field '$densify.field' is missing but a required field")
	}
	if !hasRange {
		return nil, mongoerr.Newf(40414, "BSON field '$densify.range' is missing but a required field")
	}
	s := &densifyStage{}
	if err := s.parseRange(rng); err != nil {
		return nil, err
	}
	for _, name := range partNames {
		parts, err := value.SplitFieldPath(name)
		if err != nil {
			return nil, err
		}
		s.partitions = append(s.partitions, parts)
	}
	parts, err := value.SplitFieldPath(field)
	if err != nil {
		return nil, err
	}
	s.field = parts
	if s.mode == densifyPartition && len(s.partitions) == 0 {
		return nil, mongoerr.Newf(5733408, "One cannot specify the bounds as 'partition' without specifying a non-empty array of partitionByFields. You may have meant to specify 'full' bounds.")
	}
	// Sort by the partition fields (but not for "full", whose range spans every
	// partition), then by the field.
	var sortSpec bson.D
	if s.mode != densifyFull {
		for _, name := range partNames {
			sortSpec = append(sortSpec, bson.E{Key: name, Value: int32(1)})
		}
	}
	sortSpec = append(sortSpec, bson.E{Key: field, Value: int32(1)})
	if s.sorter, err = sorter.Compile(sortSpec); err != nil {
		return nil, err
	}
	return s, nil
}

// stringArray reads an IDL array<string> field.
func stringArray(stageName, field string, v any) ([]string, error) {
	a, ok := v.(bson.A)
	if !ok {
		return nil, winWrongType(stageName, field, v, "array")
	}
	out := make([]string, len(a))
	for i, x := range a {
		s, ok := x.(string)
		if !ok {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "BSON field '%s.%s.%d' is the wrong type '%s', expected type 'string'", stageName, field, i, winTypeName(x))
		}
		out[i] = s
	}
	return out, nil
}

func (s *densifyStage) parseRange(rng bson.D) error {
	var unit string
	var bounds any
	var hasStep, hasUnit, hasBounds bool
	for _, e := range rng {
		switch e.Key {
		case "step":
			if hasStep {
				return winDuplicateField("$densify.range", e.Key)
			}
			if !value.IsNumber(e.Value) {
				return winWrongType("$densify.range", e.Key, e.Value, "numeric")
			}
			s.step, hasStep = e.Value, true
		case "unit":
			if hasUnit {
				return winDuplicateField("$densify.range", e.Key)
			}
			u, ok := e.Value.(string)
			if !ok {
				return winWrongType("$densify.range", e.Key, e.Value, "string")
			}
			unit, hasUnit = u, true
		case "bounds":
			if hasBounds {
				return winDuplicateField("$densify.range", e.Key)
			}
			bounds, hasBounds = e.Value, true
		default:
			return mongoerr.Newf(40415, "BSON field '$densify.range.%s' is an unknown field.", e.Key)
		}
	}
	if !hasStep {
		return mongoerr.Newf(40414, "BSON field '$densify.range.step' is missing but a required field")
	}
	if !hasBounds {
		return mongoerr.Newf(40414, "BSON field '$densify.range.bounds' is missing but a required field")
	}
	if value.Compare(s.step, int32(0)) <= 0 || value.IsNaN(s.step) {
		return mongoerr.Newf(5733401, "The step parameter in a range statement must be a strictly positive numeric value")
	}
	if hasUnit {
		n, ok := value.ToInt64(s.step)
		if !ok {
			return mongoerr.Newf(6586400, "The step parameter in a range statement must be a whole number when densifying a date range")
		}
		u, err := parseWinTimeUnit(unit)
		if err != nil {
			return err
		}
		s.unit, s.stepInt = u, n
	}
	switch b := bounds.(type) {
	case bson.A:
		if len(b) != 2 {
			return mongoerr.Newf(5733403, "A bounding array in a range statement must have exactly two elements")
		}
		if value.Compare(b[0], b[1]) > 0 {
			return mongoerr.Newf(5733402, "A bounding array must be an ascending array of either two dates or two numbers")
		}
		_, loDate := b[0].(bson.DateTime)
		_, hiDate := b[1].(bson.DateTime)
		switch {
		case value.IsNumber(b[0]):
			if hasUnit {
				return mongoerr.Newf(5733409, "Numeric bounds may not have unit parameter")
			}
			if !value.IsNumber(b[1]) {
				return mongoerr.Newf(5733406, "A bounding array must contain either both dates or both numeric types")
			}
			if value.TypeOf(b[0]) != value.TypeOf(b[1]) || value.TypeOf(b[0]) != value.TypeOf(s.step) {
				return mongoerr.Newf(5876900, "Upper bound, lower bound, and step must all have the same type")
			}
		case loDate:
			if !hiDate {
				return mongoerr.Newf(5733405, "A bounding array must contain either both dates or both numeric types")
			}
			if !hasUnit {
				return mongoerr.Newf(5733410, "A bounding array of dates must specify a unit")
			}
		default:
			return mongoerr.Newf(5946800, "Explicit bounds must be numeric or dates")
		}
		s.mode, s.lo, s.hi = densifyExplicit, b[0], b[1]
	case string:
		switch b {
		case "full":
			s.mode = densifyFull
		case "partition":
			s.mode = densifyPartition
		default:
			return mongoerr.Newf(5946802, "Bounds string must either be 'full' or 'partition'")
		}
	default:
		return mongoerr.Newf(5733404, "The bounds in a range statement must be the string 'full', 'partition', or an ascending array of two numbers or two dates")
	}
	return nil
}

// densifyPart is one partition: its key (the partition fields as a document) and its
// field values in ascending order.
type densifyPart struct {
	key  bson.D
	vals []any
}

func (s *densifyStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		var docs []bson.D
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			docs = append(docs, d)
		}
		if err := sorter.SortDocs(docs, s.sorter); err != nil {
			yield(nil, err)
			return
		}
		parts, err := s.partition(docs)
		if err != nil {
			yield(nil, err)
			return
		}
		generated, err := s.generate(parts)
		if err != nil {
			yield(nil, err)
			return
		}
		if len(generated) > 0 {
			docs = append(docs, generated...)
			if err := sorter.SortDocs(docs, s.sorter); err != nil {
				yield(nil, err)
				return
			}
		}
		for _, d := range docs {
			if !yield(d, nil) {
				return
			}
		}
	}
}

// densifyGet returns the value at a dotted path, without traversing arrays.
func densifyGet(doc bson.D, path []string) any {
	var cur any = doc
	for _, p := range path {
		d, ok := cur.(bson.D)
		if !ok {
			return value.Missing
		}
		cur = value.Get(d, p)
	}
	return cur
}

// partition groups the documents with a value by partition key, in order of first
// appearance, after checking the values' types.
func (s *densifyStage) partition(docs []bson.D) ([]*densifyPart, error) {
	var parts []*densifyPart
	index := map[uint64][]*densifyPart{}
	seed := maphash.MakeSeed()
	for _, d := range docs {
		v := densifyGet(d, s.field)
		if value.IsNullish(v) {
			continue
		}
		_, isDate := v.(bson.DateTime)
		switch {
		case !isDate && !value.IsNumber(v):
			return nil, mongoerr.Newf(5733201, "Densify field type must be numeric or a date")
		case s.unit == winNoUnit && isDate:
			return nil, mongoerr.Newf(6053600, "Encountered date densify value in collection when step does not have a date unit.")
		case s.unit != winNoUnit && !isDate:
			return nil, mongoerr.Newf(6053600, "Encountered numeric densify value in collection when step has a date unit.")
		}
		key := bson.D{}
		for _, p := range s.partitions {
			key = setPath(key, p, densifyGet(d, p))
		}
		h := hashValue(seed, key)
		var part *densifyPart
		for _, cand := range index[h] {
			if value.Compare(cand.key, key) == 0 {
				part = cand
				break
			}
		}
		if part == nil {
			part = &densifyPart{key: key}
			index[h] = append(index[h], part)
			parts = append(parts, part)
		}
		part.vals = append(part.vals, v)
	}
	return parts, nil
}

// generate builds the missing documents of every partition.
func (s *densifyStage) generate(parts []*densifyPart) ([]bson.D, error) {
	var gmin, gmax any
	if s.mode == densifyFull {
		for _, p := range parts {
			if gmin == nil || value.Compare(p.vals[0], gmin) < 0 {
				gmin = p.vals[0]
			}
			if last := p.vals[len(p.vals)-1]; gmax == nil || value.Compare(last, gmax) > 0 {
				gmax = last
			}
		}
	}
	if s.mode == densifyExplicit && len(parts) == 0 {
		// With no values at all, the range is filled without partition fields.
		parts = []*densifyPart{{key: bson.D{}}}
	}
	var out []bson.D
	count := 0
	for _, p := range parts {
		var from, to any
		inclusive := true
		switch s.mode {
		case densifyFull:
			from, to = gmin, gmax
		case densifyPartition:
			from, to = p.vals[0], p.vals[len(p.vals)-1]
		default:
			from, to, inclusive = s.lo, s.hi, false
		}
		j := 0
		for g := from; ; {
			c := value.Compare(g, to)
			if c > 0 || (c == 0 && !inclusive) {
				break
			}
			for j < len(p.vals) && value.Compare(p.vals[j], g) < 0 {
				j++
			}
			if j == len(p.vals) || value.Compare(p.vals[j], g) != 0 {
				count++
				if count > densifyMaxDocs {
					return nil, mongoerr.Newf(5897900, "Generated %d documents in $densify, which is over the limit of %d. Increase the 'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated documents", count, densifyMaxDocs)
				}
				doc, err := s.newDoc(p.key, g)
				if err != nil {
					return nil, err
				}
				out = append(out, doc)
			}
			next, err := s.next(g)
			if err != nil {
				return nil, err
			}
			if value.Compare(next, g) <= 0 {
				// The step no longer moves the value (a double too large for it).
				return nil, mongoerr.Newf(5897900, "Generated too many documents in $densify: the step does not advance past %s", value.Format(g))
			}
			g = next
		}
	}
	return out, nil
}

// next returns g plus one step.
func (s *densifyStage) next(g any) (any, error) {
	if dt, ok := g.(bson.DateTime); ok {
		return bson.DateTime(winAddTime(int64(dt), s.unit, s.stepInt)), nil
	}
	return value.Add(g, s.step)
}

// newDoc builds a generated document: the partition fields, then the field.
func (s *densifyStage) newDoc(key bson.D, v any) (bson.D, error) {
	var cur any = key
	for i, p := range s.field[:len(s.field)-1] {
		d, ok := cur.(bson.D)
		if !ok {
			break
		}
		cur = value.Get(d, p)
		switch cur.(type) {
		case bson.A:
			return nil, mongoerr.Newf(5733307, "$densify cannot generate fields nested inside arrays")
		case bson.D:
		default:
			if !value.IsMissing(cur) && i < len(s.field)-1 {
				return nil, mongoerr.Newf(5733308, "$densify cannot overwrite non-object values with objects")
			}
		}
	}
	return setPath(key, s.field, v), nil
}
