package agg

// $bucket and $bucketAuto group documents into ranges of a groupBy expression's value.
//
// $bucket is MongoDB's $group whose _id is a $switch over the boundaries, followed by a
// $sort on _id: a value v falls in the bucket [b(i), b(i+1)) when b(i) <= v < b(i+1) by the
// aggregation comparison order, otherwise in the default bucket, and with no default
// such a value is $switch's error 40066.
//
// $bucketAuto sorts the documents by the groupBy value and cuts the sorted sequence into
// buckets of round(n / buckets) documents, keeping equal values in one bucket; a bucket's
// max is the next bucket's min (the last bucket's max is its largest value), or with a
// granularity the boundaries are rounded to a preferred-number series.

import (
	"cmp"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$bucket", parseBucket)
	register("$bucketAuto", parseBucketAuto)
}

// aggCompare is the order of aggregation comparisons ($lt, $gte, $sort on computed
// values): BSON order, except that missing and undefined sort before null, which
// value.Compare (the query order) treats as equal.
func aggCompare(a, b any) int {
	// Fast paths for the common same-type keys; cmp.Compare orders NaN first and equal to
	// itself, and -0 equal to 0, as MongoDB does.
	switch x := a.(type) {
	case int32:
		if y, ok := b.(int32); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.(int64); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	}
	if c := value.Compare(a, b); c != 0 {
		return c
	}
	ra, rb := nullRank(a), nullRank(b)
	switch {
	case ra < rb:
		return -1
	case ra > rb:
		return 1
	}
	return 0
}

func nullRank(v any) int {
	switch v.(type) {
	case nil, bson.Null:
		return 1
	}
	return 0
}

// sameCanonicalType is MongoDB's canonical type test for $bucket boundaries: the BSON
// comparison bracket, with undefined (and missing) distinct from null.
func sameCanonicalType(a, b any) bool {
	return value.SameBracket(a, b) && nullRank(a) == nullRank(b)
}

// isGroupBy reports whether a groupBy argument has the shape $bucket and $bucketAuto
// accept: a "$path" string or an operator expression object.
func isGroupBy(spec any, minLen int) bool {
	switch x := spec.(type) {
	case string:
		return strings.HasPrefix(x, "$") && len(x) >= minLen
	case bson.D:
		return len(x) > 0 && strings.HasPrefix(x[0].Key, "$")
	}
	return false
}

// constantValue returns the value of spec when it is a constant expression (a literal, or
// an expression over literals only, which MongoDB folds when it parses the stage).
func constantValue(spec any, o *Options) (any, bool, error) {
	if !isClosed(spec) {
		return nil, false, nil
	}
	e, err := expr.Compile(spec, o.Vars...)
	if err != nil {
		return nil, false, err
	}
	v, err := e.Eval(&expr.Env{}, bson.D{})
	if err != nil {
		return nil, false, err
	}
	if value.IsMissing(v) {
		return nil, false, nil
	}
	return v, true, nil
}

// isClosed reports whether an expression reads nothing but literals: no field path, no
// variable and no $rand.
func isClosed(spec any) bool {
	switch x := spec.(type) {
	case string:
		return !strings.HasPrefix(x, "$")
	case bson.A:
		for _, e := range x {
			if !isClosed(e) {
				return false
			}
		}
	case bson.D:
		if len(x) > 0 && strings.HasPrefix(x[0].Key, "$") {
			switch x[0].Key {
			case "$literal", "$const":
				return true
			case "$rand", "$meta", "$function", "$accumulator":
				return false
			}
		}
		for _, e := range x {
			if !isClosed(e.Value) {
				return false
			}
		}
	}
	return true
}

// bucketStage is a compiled $bucket.
type bucketStage struct {
	groupBy    *expr.Expr
	boundaries []any
	def        any
	hasDefault bool
	fields     []groupField
	byID       *sorter.Sorter
}

func parseBucket(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40201, "Argument to $bucket stage must be an object, but found type: %s.", value.TypeName(spec))
	}
	s := &bucketStage{}
	var outputSpec bson.D
	hasOutput := false
	for _, e := range d {
		switch e.Key {
		case "groupBy":
			if !isGroupBy(e.Value, 1) {
				return nil, mongoerr.Newf(40202, "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: %s.", value.Format(e.Value))
			}
			g, err := expr.Compile(e.Value, o.Vars...)
			if err != nil {
				return nil, err
			}
			s.groupBy = g
		case "boundaries":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, mongoerr.Newf(40200, "The $bucket 'boundaries' field must be an array, but found type: %s.", value.TypeName(e.Value))
			}
			s.boundaries = s.boundaries[:0]
			for _, b := range arr {
				v, ok, err := constantValue(b, o)
				if err != nil {
					return nil, err
				}
				if !ok {
					return nil, mongoerr.Newf(40191, "The $bucket 'boundaries' field must be an array of constant values, but found value: %s.", value.Format(b))
				}
				s.boundaries = append(s.boundaries, v)
			}
			if len(s.boundaries) < 2 {
				return nil, mongoerr.Newf(40192, "The $bucket 'boundaries' field must have at least 2 values, but found %d value(s).", len(s.boundaries))
			}
			for i := 1; i < len(s.boundaries); i++ {
				lo, hi := s.boundaries[i-1], s.boundaries[i]
				if !sameCanonicalType(lo, hi) {
					return nil, mongoerr.Newf(40193, "All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types %s and %s.", value.TypeName(lo), value.TypeName(hi))
				}
				if aggCompare(lo, hi) >= 0 {
					return nil, mongoerr.Newf(40194, "The 'boundaries' option to $bucket must be sorted, but elements %d and %d are not in ascending order (%s is not less than %s).", i-1, i, value.Format(lo), value.Format(hi))
				}
			}
		case "default":
			v, ok, err := constantValue(e.Value, o)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, mongoerr.Newf(40195, "The $bucket 'default' field must be a constant expression, but found: %s.", value.Format(e.Value))
			}
			s.def, s.hasDefault = v, true
		case "output":
			out, ok := e.Value.(bson.D)
			if !ok {
				return nil, mongoerr.Newf(40196, "The $bucket 'output' field must be an object, but found type: %s.", value.TypeName(e.Value))
			}
			outputSpec, hasOutput = out, true
		default:
			return nil, mongoerr.Newf(40197, "Unrecognized option to $bucket: %s.", e.Key)
		}
	}
	if s.groupBy == nil || len(s.boundaries) == 0 {
		return nil, mongoerr.Newf(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.")
	}
	if s.hasDefault && sameCanonicalType(s.def, s.boundaries[0]) {
		if !(aggCompare(s.def, s.boundaries[0]) < 0 || aggCompare(s.def, s.boundaries[len(s.boundaries)-1]) >= 0) {
			return nil, mongoerr.Newf(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.")
		}
	}
	fields, err := bucketOutputFields(outputSpec, hasOutput, o)
	if err != nil {
		return nil, err
	}
	s.fields = fields
	s.byID, _ = sorter.Compile(bson.D{{Key: "_id", Value: int32(1)}})
	return s, nil
}

// bucketOutputFields compiles the output accumulators of $bucket/$bucketAuto; without an
// output document the stages count the documents of each bucket.
func bucketOutputFields(spec bson.D, given bool, o *Options) ([]groupField, error) {
	if !given {
		acc, err := expr.CompileAccumulator("$sum", int32(1), expr.InBucket)
		if err != nil {
			return nil, err
		}
		return []groupField{{name: "count", acc: acc}}, nil
	}
	fields := make([]groupField, 0, len(spec))
	for _, e := range spec {
		if e.Key == "_id" {
			// $bucket hands its output to $group next to the _id it computes.
			return nil, mongoerr.Newf(15948, "a group's _id may only be specified once")
		}
		f, err := parseAccumulatorField(e, expr.InBucket, o)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// bucketOf returns the index of the boundary that starts v's bucket, or -1.
func (s *bucketStage) bucketOf(v any) int {
	b := s.boundaries
	// The first boundary greater than v ends v's bucket.
	i, _ := slices.BinarySearchFunc(b, v, func(bound, v any) int {
		if aggCompare(bound, v) <= 0 {
			return -1
		}
		return 1
	})
	if i == 0 || i == len(b) {
		return -1
	}
	return i - 1
}

func (s *bucketStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		// states[i] accumulates the bucket starting at boundaries[i]; the last slot is
		// the default bucket. A bucket no document falls in produces no output.
		states := make([][]expr.State, len(s.boundaries))
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			v, err := s.groupBy.Eval(c.Env, d)
			if err != nil {
				yield(nil, err)
				return
			}
			i := s.bucketOf(v)
			if i < 0 {
				if !s.hasDefault {
					yield(nil, mongoerr.Newf(40066, "$switch could not find a matching branch for an input, and no default was specified."))
					return
				}
				i = len(s.boundaries) - 1
			}
			if states[i] == nil {
				key := s.def
				if i < len(s.boundaries)-1 {
					key = s.boundaries[i]
				}
				if states[i], err = newBucketStates(c, s.fields, key); err != nil {
					yield(nil, err)
					return
				}
			}
			for _, st := range states[i] {
				if err := st.Add(c.Env, d); err != nil {
					yield(nil, err)
					return
				}
			}
		}
		var out []bson.D
		for i, sts := range states {
			if sts == nil {
				continue
			}
			key := s.def
			if i < len(s.boundaries)-1 {
				key = s.boundaries[i]
			}
			doc, err := bucketDoc(key, s.fields, sts)
			if err != nil {
				yield(nil, err)
				return
			}
			out = append(out, doc)
		}
		// $bucket ends with {$sort: {_id: 1}}, which places the default bucket by its value.
		if err := sorter.SortDocs(out, s.byID); err != nil {
			yield(nil, err)
			return
		}
		for _, d := range out {
			if !yield(d, nil) {
				return
			}
		}
	}
}

func newBucketStates(c *Context, fields []groupField, key any) ([]expr.State, error) {
	states := make([]expr.State, len(fields))
	for i, f := range fields {
		st, err := f.acc.NewGroupState(c.Env, key)
		if err != nil {
			return nil, err
		}
		states[i] = st
	}
	return states, nil
}

func bucketDoc(id any, fields []groupField, states []expr.State) (bson.D, error) {
	doc := make(bson.D, 0, len(fields)+1)
	doc = append(doc, bson.E{Key: "_id", Value: id})
	for i, f := range fields {
		v, err := states[i].Result()
		if err != nil {
			return nil, err
		}
		doc = append(doc, bson.E{Key: f.name, Value: v})
	}
	return doc, nil
}

// bucketAutoStage is a compiled $bucketAuto.
type bucketAutoStage struct {
	groupBy *expr.Expr
	buckets int
	fields  []groupField
	rounder rounder
}

func parseBucketAuto(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40240, "The argument to $bucketAuto must be an object, but found type: %s", value.TypeName(spec))
	}
	s := &bucketAutoStage{}
	hasBuckets, hasOutput := false, false
	var outputSpec bson.D
	for _, e := range d {
		switch e.Key {
		case "groupBy":
			if !isGroupBy(e.Value, 2) {
				return nil, mongoerr.Newf(40239, "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object, but found: %s", value.Format(e.Value))
			}
			g, err := expr.Compile(e.Value, o.Vars...)
			if err != nil {
				return nil, err
			}
			s.groupBy = g
		case "buckets":
			if !value.IsNumber(e.Value) {
				return nil, mongoerr.Newf(40241, "The $bucketAuto 'buckets' field must be a numeric value, but found type: %s", value.TypeName(e.Value))
			}
			n, ok := value.ToInt64(e.Value)
			if !ok || n < math.MinInt32 || n > math.MaxInt32 {
				f, _ := value.ToFloat64(e.Value)
				return nil, mongoerr.Newf(40242, "The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but found %s", value.Format(f))
			}
			s.buckets, hasBuckets = int(n), true
		case "output":
			out, ok := e.Value.(bson.D)
			if !ok {
				return nil, mongoerr.Newf(40244, "The $bucketAuto 'output' field must be an object, but found type: %s", value.TypeName(e.Value))
			}
			outputSpec, hasOutput = out, true
		case "granularity":
			name, ok := e.Value.(string)
			if !ok {
				return nil, mongoerr.Newf(40261, "The $bucketAuto 'granularity' field must be a string, but found type: %s", value.TypeName(e.Value))
			}
			r, ok := rounders[name]
			if !ok {
				return nil, mongoerr.Newf(40257, "Unknown rounding granularity '%s'", name)
			}
			s.rounder = r
		default:
			return nil, mongoerr.Newf(40245, "Unrecognized option to $bucketAuto: %s", e.Key)
		}
	}
	if s.groupBy == nil || !hasBuckets {
		return nil, mongoerr.Newf(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified")
	}
	if s.buckets <= 0 {
		return nil, mongoerr.Newf(40243, "The $bucketAuto 'buckets' field must be greater than 0, but found: %d", s.buckets)
	}
	fields, err := bucketOutputFields(outputSpec, hasOutput, o)
	if err != nil {
		return nil, err
	}
	s.fields = fields
	return s, nil
}

// key evaluates the groupBy value of one document: missing is null, as in $group, and
// with a granularity the value must be a non-negative number.
func (s *bucketAutoStage) key(c *Context, d bson.D) (any, error) {
	v, err := s.groupBy.Eval(c.Env, d)
	if err != nil {
		return nil, err
	}
	if s.rounder != nil {
		if !value.IsNumber(v) {
			return nil, mongoerr.Newf(40258, "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a value with type: %s", value.TypeName(v))
		}
		f, _ := value.ToFloat64(v)
		if math.IsNaN(f) {
			return nil, mongoerr.Newf(40259, "$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a NaN")
		}
		if f < 0 {
			return nil, mongoerr.Newf(40260, "$bucketAuto can specify a 'granularity' with non-negative numbers only, but found a negative number")
		}
	}
	if value.IsMissing(v) {
		v = nil
	}
	return v, nil
}

// autoBucket is one bucket of $bucketAuto: its boundaries and accumulator states.
type autoBucket struct {
	min, max any
	states   []expr.State
}

func (s *bucketAutoStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		var docs []bson.D
		var keys []any
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			k, err := s.key(c, d)
			if err != nil {
				yield(nil, err)
				return
			}
			docs, keys = append(docs, d), append(keys, k)
		}
		if len(docs) == 0 {
			return
		}
		buckets, bucketOf := s.cut(keys)
		// Feed every bucket in input order, as MongoDB 8 does for the order-sensitive
		// accumulators ($first, $push, …), rather than in groupBy order.
		for _, b := range buckets {
			b.states = make([]expr.State, len(s.fields))
			for i, f := range s.fields {
				st, err := f.acc.NewGroupState(c.Env, nil)
				if err != nil {
					yield(nil, err)
					return
				}
				b.states[i] = st
			}
		}
		for pos, d := range docs {
			for _, st := range buckets[bucketOf[pos]].states {
				if err := st.Add(c.Env, d); err != nil {
					yield(nil, err)
					return
				}
			}
		}
		for _, b := range buckets {
			doc, err := bucketDoc(bson.D{{Key: "min", Value: b.min}, {Key: "max", Value: b.max}}, s.fields, b.states)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(doc, nil) {
				return
			}
		}
	}
}

// cut sorts the keys and cuts them into buckets: it returns the buckets in order and, by
// input position, the bucket each document belongs to.
func (s *bucketAutoStage) cut(keys []any) ([]*autoBucket, []int32) {
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	// Equal keys keep their input order, so the cut is deterministic.
	slices.SortFunc(order, func(a, b int32) int {
		if c := aggCompare(keys[a], keys[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	key := func(i int) any { return keys[order[i]] }
	approx := int(math.Round(float64(len(keys)) / float64(s.buckets)))
	if approx < 1 {
		approx = 1
	}
	bucketOf := make([]int32, len(keys))
	var buckets []*autoBucket
	var prevMax any
	i := 0
	for n := 1; n <= s.buckets && i < len(keys); n++ {
		start := i
		lo, hi := key(i), key(i)
		i++
		// Fill to the approximate size; the last bucket takes everything left.
		for i < len(keys) && (n == s.buckets || i-start < approx) {
			hi = key(i)
			i++
		}
		if s.rounder != nil {
			bound := s.rounder.up(hi)
			// Values below the rounded-up boundary belong to this bucket too.
			for i < len(keys) && (aggCompare(bound, key(i)) > 0 || aggCompare(hi, key(i)) == 0) {
				hi = key(i)
				i++
			}
			f, _ := value.ToFloat64(bound)
			if f == 0 && i < len(keys) {
				hi = s.rounder.down(key(i))
			} else {
				hi = bound
			}
			if n == 1 {
				lo = s.rounder.down(lo)
			} else {
				lo = prevMax
			}
		} else {
			// Equal values stay together; the max is the next bucket's min.
			for i < len(keys) && aggCompare(hi, key(i)) == 0 {
				hi = key(i)
				i++
			}
			if i < len(keys) {
				hi = key(i)
			}
		}
		prevMax = hi
		for _, pos := range order[start:i] {
			bucketOf[pos] = int32(len(buckets))
		}
		buckets = append(buckets, &autoBucket{min: lo, max: hi})
	}
	return buckets, bucketOf
}

// rounder rounds bucket boundaries to a granularity. Values are non-negative numbers
// (checked when the keys are extracted).
type rounder interface {
	up(v any) any   // the smallest series value strictly greater than v
	down(v any) any // the largest series value strictly less than v
}

// Preferred-number series, scaled to integers as MongoDB stores them. The R series are
// Renard's "least rounded" values, the E series IEC 60063's.
var rounders = map[string]rounder{
	"R5":  newSeries(10, 16, 25, 40, 63),
	"R10": newSeries(100, 125, 160, 200, 250, 315, 400, 500, 630, 800),
	"R20": newSeries(100, 112, 125, 140, 160, 180, 200, 224, 250, 280, 315, 355, 400, 450, 500, 560, 630, 710, 800, 900),
	"R40": newSeries(100, 106, 112, 118, 125, 132, 140, 150, 160, 170, 180, 190, 200, 212, 224, 236, 250, 265, 280, 300,
		315, 355, 375, 400, 425, 450, 475, 500, 530, 560, 600, 630, 670, 710, 750, 800, 850, 900, 950),
	"R80": newSeries(103, 109, 115, 122, 128, 136, 145, 155, 165, 175, 185, 195, 206, 218, 230, 243, 258, 272, 290, 307,
		325, 345, 365, 387, 412, 437, 462, 487, 515, 545, 575, 615, 650, 690, 730, 775, 825, 875, 925, 975),
	"1-2-5": newSeries(10, 20, 50),
	"E6":    newSeries(10, 15, 22, 33, 47, 68),
	"E12":   newSeries(10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82),
	"E24":   newSeries(10, 11, 12, 13, 15, 16, 18, 20, 22, 24, 27, 30, 33, 36, 39, 43, 47, 51, 56, 62, 68, 75, 82, 91),
	"E48": newSeries(100, 105, 110, 115, 121, 127, 133, 140, 147, 154, 162, 169, 178, 187, 196, 205, 215, 226, 237, 249,
		261, 274, 287, 301, 316, 332, 348, 365, 383, 402, 422, 442, 464, 487, 511, 536, 562, 590, 619, 649, 681, 715, 750,
		787, 825, 866, 909, 953),
	"E96": newSeries(100, 102, 105, 107, 110, 113, 115, 118, 121, 124, 127, 130, 133, 137, 140, 143, 147, 150, 154, 158,
		162, 165, 169, 174, 178, 182, 187, 191, 196, 200, 205, 210, 215, 221, 226, 232, 237, 243, 249, 255, 261, 267, 274,
		280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357, 365, 374, 383, 392, 402, 412, 422, 432, 442, 453, 464, 475,
		487, 499, 511, 523, 536, 549, 562, 576, 590, 604, 619, 634, 649, 665, 681, 698, 715, 732, 750, 768, 787, 806, 825,
		845, 866, 887, 909, 931, 953, 976),
	"E192": newSeries(100, 101, 102, 104, 105, 106, 107, 109, 110, 111, 113, 114, 115, 117, 118, 120, 121, 123, 124, 126,
		127, 129, 130, 132, 133, 135, 137, 138, 140, 142, 143, 145, 147, 149, 150, 152, 154, 156, 158, 160, 162, 164, 165,
		167, 169, 172, 174, 176, 178, 180, 182, 184, 187, 189, 191, 193, 196, 198, 200, 203, 205, 208, 210, 213, 215, 218,
		221, 223, 226, 229, 232, 234, 237, 240, 243, 246, 249, 252, 255, 258, 261, 264, 267, 271, 274, 277, 280, 284, 287,
		291, 294, 298, 301, 305, 309, 312, 316, 320, 324, 328, 332, 336, 340, 344, 348, 352, 357, 361, 365, 370, 374, 379,
		383, 388, 392, 397, 402, 407, 412, 417, 422, 427, 432, 437, 442, 448, 453, 459, 464, 470, 475, 481, 487, 493, 499,
		505, 511, 517, 523, 530, 536, 542, 549, 556, 562, 569, 576, 583, 590, 597, 604, 612, 619, 626, 634, 642, 649, 657,
		665, 673, 681, 690, 698, 706, 715, 723, 732, 741, 750, 759, 768, 777, 787, 796, 806, 816, 825, 835, 845, 856, 866,
		876, 887, 898, 909, 920, 931, 942, 953, 965, 976, 988),
	"POWERSOF2": powersOfTwo{},
}

// series rounds to a preferred-number series: the values times every power of ten.
// Doubles (and integers) round in double arithmetic, decimals in decimal arithmetic, each
// scaling the series by factors of ten the way MongoDB does, so results match to the bit.
type series struct {
	vals []float64
	decs []*apd.Decimal // vals as decimal128 converts a double: 15 significant digits
}

func newSeries(vals ...float64) *series {
	s := &series{vals: vals}
	for _, v := range vals {
		digits := len(big.NewInt(int64(v)).String())
		s.decs = append(s.decs, apd.New(int64(v)*int64(math.Pow10(15-digits)), int32(digits-15)))
	}
	return s
}

func (s *series) up(v any) any {
	if f, _ := value.ToFloat64(v); f == 0 || math.IsInf(f, 0) {
		return v // MongoDB would scale forever looking for a series value above infinity
	}
	if d, ok := v.(bson.Decimal128); ok {
		return s.upDecimal(d)
	}
	n, _ := value.ToFloat64(v)
	vals := s.vals
	first, last := vals[0], vals[len(vals)-1]
	m := 1.0
	for n >= last*m {
		m *= 10
	}
	for n < first*m {
		prevMin := first * m
		m /= 10
		if n >= last*m {
			return prevMin
		}
	}
	for _, x := range vals {
		if n < x*m {
			return x * m
		}
	}
	return last * m // unreachable: n < last*m after scaling
}

func (s *series) down(v any) any {
	if f, _ := value.ToFloat64(v); f == 0 || math.IsInf(f, 0) {
		return v
	}
	if d, ok := v.(bson.Decimal128); ok {
		return s.downDecimal(d)
	}
	n, _ := value.ToFloat64(v)
	vals := s.vals
	first, last := vals[0], vals[len(vals)-1]
	m := 1.0
	for n <= first*m {
		m /= 10
	}
	for n > last*m {
		prevMax := last * m
		m *= 10
		if n <= first*m {
			return prevMax
		}
	}
	for i := len(vals) - 1; i >= 0; i-- {
		if vals[i]*m < n {
			return vals[i] * m
		}
	}
	return first * m // unreachable: n > first*m after scaling
}

var (
	decTen = apd.New(10, 0)
	decOne = apd.New(1, 0)
)

func decMul(a, b *apd.Decimal) *apd.Decimal {
	var r apd.Decimal
	_, _ = value.DecimalContext.Mul(&r, a, b)
	return &r
}

// decDiv divides as decimal128 does: an exact quotient takes the exponent closest to the
// ideal one (the operands' exponent difference), so 1/10 is 0.1, not 0.1000…0.
func decDiv(a, b *apd.Decimal) *apd.Decimal {
	var r apd.Decimal
	cond, _ := value.DecimalContext.Quo(&r, a, b)
	if !cond.Inexact() {
		r.Reduce(&r)
		if ideal := a.Exponent - b.Exponent; r.Exponent > ideal {
			_, _ = value.DecimalContext.Quantize(&r, &r, ideal)
		}
	}
	return &r
}

func (s *series) upDecimal(v bson.Decimal128) any {
	n, err := value.ToDecimal(v)
	if err != nil {
		return v
	}
	first, last := s.decs[0], s.decs[len(s.decs)-1]
	m := decOne
	for n.Cmp(decMul(last, m)) >= 0 {
		m = decMul(m, decTen)
	}
	for n.Cmp(decMul(first, m)) < 0 {
		prevMin := decMul(first, m)
		m = decDiv(m, decTen)
		if n.Cmp(decMul(last, m)) >= 0 {
			return value.FromDecimal(prevMin)
		}
	}
	for _, x := range s.decs {
		if xm := decMul(x, m); n.Cmp(xm) < 0 {
			return value.FromDecimal(xm)
		}
	}
	return value.FromDecimal(decMul(last, m))
}

func (s *series) downDecimal(v bson.Decimal128) any {
	n, err := value.ToDecimal(v)
	if err != nil {
		return v
	}
	first, last := s.decs[0], s.decs[len(s.decs)-1]
	m := decOne
	for n.Cmp(decMul(first, m)) <= 0 {
		m = decDiv(m, decTen)
	}
	for n.Cmp(decMul(last, m)) > 0 {
		prevMax := decMul(last, m)
		m = decMul(m, decTen)
		if n.Cmp(decMul(first, m)) <= 0 {
			return value.FromDecimal(prevMax)
		}
	}
	for i := len(s.decs) - 1; i >= 0; i-- {
		if xm := decMul(s.decs[i], m); xm.Cmp(n) < 0 {
			return value.FromDecimal(xm)
		}
	}
	return value.FromDecimal(decMul(first, m))
}

// powersOfTwo rounds to powers of two. The result is 2 raised to an exponent with
// $pow's typing: an int exponent gives an int, a long past int range, a double when
// negative; a decimal input gives a decimal.
type powersOfTwo struct{}

func (powersOfTwo) up(v any) any {
	if f, _ := value.ToFloat64(v); math.IsInf(f, 0) {
		return v
	}
	switch x := v.(type) {
	case float64:
		if x == 0 {
			return v
		}
		return powOf2(int(math.Floor(math.Log2(x)) + 1))
	case bson.Decimal128:
		f, _ := value.ToFloat64(x)
		if f == 0 {
			return v
		}
		return decPowOf2(int(math.Floor(math.Log2(f)) + 1))
	}
	n, _ := value.ToInt64(v)
	if n == 0 {
		return v
	}
	return powOf2(bits.Len64(uint64(n)))
}

func (powersOfTwo) down(v any) any {
	if f, _ := value.ToFloat64(v); math.IsInf(f, 0) {
		return v
	}
	switch x := v.(type) {
	case float64:
		if x == 0 {
			return v
		}
		return powOf2(int(math.Ceil(math.Log2(x)) - 1))
	case bson.Decimal128:
		f, _ := value.ToFloat64(x)
		if f == 0 {
			return v
		}
		return decPowOf2(int(math.Ceil(math.Log2(f)) - 1))
	}
	n, _ := value.ToInt64(v)
	if n == 0 {
		return v
	}
	exp := bits.Len64(uint64(n)) - 1
	if n&(n-1) == 0 {
		exp-- // a power of two rounds down to the previous one
	}
	return powOf2(exp)
}

func powOf2(exp int) any {
	switch {
	case exp < 0 || exp >= 63:
		return math.Ldexp(1, exp)
	case exp < 31:
		return int32(1) << exp
	}
	return int64(1) << exp
}

func decPowOf2(exp int) any {
	r := new(apd.Decimal)
	_, _ = value.DecimalContext.Pow(r, apd.New(2, 0), apd.New(int64(exp), 0))
	return value.FromDecimal(r)
}
