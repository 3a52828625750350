package expr

// Array operators: $arrayElemAt $arrayToObject $concatArrays $filter $in $indexOfArray
// $isArray $map $objectToArray $range $reduce $reverseArray $size $slice $sortArray $zip.
// Results are always new arrays: operands (which may be shared literals or stored
// documents) are never modified.

import (
	"slices"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	registerBinary("$arrayElemAt", arrayElemAt)
	registerUnary("$arrayToObject", arrayToObject)
	register("$concatArrays", parseConcatArrays)
	register("$filter", parseFilter)
	registerBinary("$in", inArray)
	register("$indexOfArray", parseIndexOfArray)
	registerUnary("$isArray", func(v any) (any, error) { _, ok := v.(bson.A); return ok, nil })
	register("$map", parseMap)
	registerUnary("$objectToArray", objectToArray)
	register("$range", parseRange)
	register("$reduce", parseReduce)
	registerUnary("$reverseArray", reverseArray)
	registerUnary("$size", func(v any) (any, error) {
		arr, ok := v.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(17124, "The argument to $size must be an array, but was of type: %s", typeName(v))
		}
		return intOrLong(int64(len(arr))), nil
	})
	register("$slice", parseSlice)
	register("$sortArray", parseSortArray)
	register("$zip", parseZip)
}

func arrayElemAt(a, idx any) (any, error) {
	if value.IsNullish(a) || value.IsNullish(idx) {
		return nil, nil
	}
	arr, ok := a.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(28689, "$arrayElemAt's first argument must be an array, but is %s", typeName(a))
	}
	if !value.IsNumber(idx) {
		return nil, mongoerr.Newf(28690, "$arrayElemAt's second argument must be a numeric value, but is %s", typeName(idx))
	}
	i32, ok := int32Of(idx)
	if !ok {
		return nil, mongoerr.Newf(28691, "$arrayElemAt's second argument must be representable as a 32-bit integer: %s", formatDouble(numDouble(idx)))
	}
	i := int(i32)
	if i < 0 {
		i += len(arr)
	}
	if i < 0 || i >= len(arr) {
		return value.Missing, nil
	}
	return arr[i], nil
}

func arrayToObject(v any) (any, error) {
	if value.IsNullish(v) {
		return nil, nil
	}
	arr, ok := v.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(40386, "$arrayToObject requires an array input, found: %s", typeName(v))
	}
	out := bson.D{}
	if len(arr) == 0 {
		return out, nil
	}
	var pairs bool
	switch arr[0].(type) {
	case bson.A:
		pairs = true
	case bson.D:
	default:
		return nil, mongoerr.Newf(40398, "Unrecognised input type format for $arrayToObject: %s", typeName(arr[0]))
	}
	for _, elem := range arr {
		var key string
		var val any
		if pairs {
			kv, ok := elem.(bson.A)
			if !ok {
				return nil, mongoerr.Newf(40396, "$arrayToObject requires a consistent input format. Elements mustall be arrays or all be objects. Array was detected, now found: %s", typeName(elem))
			}
			if len(kv) != 2 {
				return nil, mongoerr.Newf(40397, "$arrayToObject requires an array of size 2 arrays,found array of size: %d", len(kv))
			}
			k, ok := kv[0].(string)
			if !ok {
				return nil, mongoerr.Newf(40395, "$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: %s", typeName(kv[0]))
			}
			if strings.IndexByte(k, 0) >= 0 {
				return nil, mongoerr.Newf(4940400, "Key field cannot contain an embedded null byte")
			}
			key, val = k, kv[1]
		} else {
			d, ok := elem.(bson.D)
			if !ok {
				return nil, mongoerr.Newf(40391, "$arrayToObject requires a consistent input format. Elements mustall be arrays or all be objects. Object was detected, now found: %s", typeName(elem))
			}
			if len(d) != 2 {
				return nil, mongoerr.Newf(40392, "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:%d", len(d))
			}
			k, hasK := value.Lookup(d, "k")
			vv, hasV := value.Lookup(d, "v")
			if !hasK || !hasV {
				return nil, mongoerr.Newf(40393, "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both keys from: %s", value.Format(d))
			}
			ks, ok := k.(string)
			if !ok {
				return nil, mongoerr.Newf(40394, "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' must be of type string. Found type: %s", typeName(k))
			}
			if strings.IndexByte(ks, 0) >= 0 {
				return nil, mongoerr.Newf(4940401, "Key field cannot contain an embedded null byte")
			}
			key, val = ks, vv
		}
		// A repeated key keeps its first position and takes the last value.
		replaced := false
		for i := range out {
			if out[i].Key == key {
				out[i].Value = val
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, bson.E{Key: key, Value: val})
		}
	}
	return out, nil
}

type concatArraysNode []node

func parseConcatArrays(args any, sc *scope) (node, error) {
	ops, err := operands(args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(concatArraysNode(ops), ops...)
}

func (n concatArraysNode) eval(c *ctx) (any, error) {
	out := bson.A{}
	for _, op := range n {
		v, err := op.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		arr, ok := v.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(28664, "$concatArrays only supports arrays, not %s", typeName(v))
		}
		out = append(out, arr...)
	}
	return out, nil
}

// asName reads the variable name of $map's and $filter's 'as'; a non-string is an empty
// name, which validation rejects.
func asName(spec any, has bool) string {
	if !has {
		return "this"
	}
	s, _ := spec.(string)
	return s
}

type filterNode struct {
	input, cond, limit node
	as                 binding
}

func parseFilter(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(28646, "$filter only supports an object as its argument")
	}
	var inputSpec, asSpec, condSpec, limitSpec any
	var hasInput, hasAs, hasCond, hasLimit bool
	for _, e := range d {
		switch e.Key {
		case "input":
			inputSpec, hasInput = e.Value, true
		case "as":
			asSpec, hasAs = e.Value, true
		case "cond":
			condSpec, hasCond = e.Value, true
		case "limit":
			limitSpec, hasLimit = e.Value, true
		default:
			return nil, mongoerr.Newf(28647, "Unrecognized parameter to $filter: %s", e.Key)
		}
	}
	if !hasInput {
		return nil, mongoerr.Newf(28648, "Missing 'input' parameter to $filter")
	}
	if !hasCond {
		return nil, mongoerr.Newf(28650, "Missing 'cond' parameter to $filter")
	}
	n := &filterNode{}
	var err error
	if n.input, err = parse(inputSpec, sc); err != nil {
		return nil, err
	}
	inner, b, err := bindNames(sc, asName(asSpec, hasAs))
	if err != nil {
		return nil, err
	}
	n.as = b[0]
	if n.cond, err = parse(condSpec, inner); err != nil {
		return nil, err
	}
	if hasLimit {
		if n.limit, err = parse(limitSpec, sc); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (n *filterNode) eval(c *ctx) (any, error) {
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(in) {
		return nil, nil
	}
	arr, ok := in.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(28651, "input to $filter must be an array not %s", typeName(in))
	}
	if len(arr) == 0 {
		return arr, nil
	}
	limit := -1
	if n.limit != nil {
		lv, err := n.limit.eval(c)
		if err != nil {
			return nil, err
		}
		if !value.IsNullish(lv) {
			l, ok := int32Of(lv)
			if !ok {
				return nil, mongoerr.Newf(327391, "$filter: limit must be represented as a 32-bit integral value: %s", value.Format(lv))
			}
			if l <= 0 {
				return nil, mongoerr.Newf(327392, "$filter: limit must be greater than 0: %s", value.Format(lv))
			}
			limit = int(l)
		}
	}
	out := bson.A{}
	if n.as.current {
		defer c.restoreCurrent(c.saveCurrent())
	}
	for _, e := range arr {
		n.as.set(c, e)
		v, err := n.cond.eval(c)
		if err != nil {
			return nil, err
		}
		if value.Truthy(v) {
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

func inArray(v, arr any) (any, error) {
	a, ok := arr.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(40081, "$in requires an array as a second argument, found: %s", typeName(arr))
	}
	for _, e := range a {
		if value.Equal(v, e) {
			return true, nil
		}
	}
	return false, nil
}

type indexOfArrayNode struct {
	ops []node
}

func parseIndexOfArray(args any, sc *scope) (node, error) {
	ops, err := rangeOperands("$indexOfArray", 2, 4, args, sc)
	if err != nil {
		return nil, err
	}
	n := &indexOfArrayNode{ops: ops}
	if allLiteral(ops...) {
		return foldConstant(n, ops...)
	}
	// A constant array is checked once, as mongod's optimizer does.
	if v, ok := literalValue(ops[0]); ok {
		if value.IsNullish(v) {
			return literal{nil}, nil
		}
		if _, ok := v.(bson.A); !ok {
			return nil, mongoerr.Newf(50809, "First operand of $indexOfArray must be an array. First argument is of type: %s", typeName(v))
		}
	}
	return n, nil
}

func (n *indexOfArrayNode) eval(c *ctx) (any, error) {
	v, err := n.ops[0].eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	arr, ok := v.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(40090, "$indexOfArray requires an array as a first argument, found: %s", typeName(v))
	}
	start, end := 0, len(arr)
	if len(n.ops) > 2 {
		if start, err = indexArg(c, n.ops[2], "$indexOfArray", "starting index"); err != nil {
			return nil, err
		}
	}
	if len(n.ops) > 3 {
		e, err := indexArg(c, n.ops[3], "$indexOfArray", "ending index")
		if err != nil {
			return nil, err
		}
		end = min(end, e)
	}
	target, err := n.ops[1].eval(c)
	if err != nil {
		return nil, err
	}
	for i := start; i < end; i++ {
		if value.Equal(arr[i], target) {
			return int32(i), nil
		}
	}
	return int32(-1), nil
}

// indexArg evaluates a start or end index of the $indexOf operators: an integral,
// non-negative number that fits in an int32.
func indexArg(c *ctx, n node, op, what string) (int, error) {
	v, err := n.eval(c)
	if err != nil {
		return 0, err
	}
	i, ok := int32Of(v)
	if !ok {
		return 0, mongoerr.Newf(40096, "%s requires an integral %s, found a value of type: %s, with value: %s", op, what, typeName(v), value.Format(v))
	}
	if i < 0 {
		return 0, mongoerr.Newf(40097, "%s requires a nonnegative %s, found: %d", op, what, i)
	}
	return int(i), nil
}

type mapNode struct {
	input, in node
	as        binding
}

func parseMap(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(16878, "$map only supports an object as its argument")
	}
	var inputSpec, asSpec, inSpec any
	var hasInput, hasAs, hasIn bool
	for _, e := range d {
		switch e.Key {
		case "input":
			inputSpec, hasInput = e.Value, true
		case "as":
			asSpec, hasAs = e.Value, true
		case "in":
			inSpec, hasIn = e.Value, true
		default:
			return nil, mongoerr.Newf(16879, "Unrecognized parameter to $map: %s", e.Key)
		}
	}
	if !hasInput {
		return nil, mongoerr.Newf(16880, "Missing 'input' parameter to $map")
	}
	if !hasIn {
		return nil, mongoerr.Newf(16882, "Missing 'in' parameter to $map")
	}
	n := &mapNode{}
	var err error
	if n.input, err = parse(inputSpec, sc); err != nil {
		return nil, err
	}
	inner, b, err := bindNames(sc, asName(asSpec, hasAs))
	if err != nil {
		return nil, err
	}
	n.as = b[0]
	if n.in, err = parse(inSpec, inner); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *mapNode) eval(c *ctx) (any, error) {
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(in) {
		return nil, nil
	}
	arr, ok := in.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(16883, "input to $map must be an array not %s", typeName(in))
	}
	if len(arr) == 0 {
		return arr, nil
	}
	out := make(bson.A, len(arr))
	if n.as.current {
		defer c.restoreCurrent(c.saveCurrent())
	}
	for i, e := range arr {
		n.as.set(c, e)
		v, err := n.in.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsMissing(v) {
			v = nil
		}
		out[i] = v
	}
	return out, nil
}

func objectToArray(v any) (any, error) {
	if value.IsNullish(v) {
		return nil, nil
	}
	d, ok := v.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40390, "$objectToArray requires a document input, found: %s", typeName(v))
	}
	out := make(bson.A, len(d))
	for i, e := range d {
		out[i] = bson.D{{Key: "k", Value: e.Key}, {Key: "v", Value: e.Value}}
	}
	return out, nil
}

type rangeNode []node

func parseRange(args any, sc *scope) (node, error) {
	ops, err := rangeOperands("$range", 2, 3, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(rangeNode(ops), ops...)
}

// maxRangeBytes is mongod's internalQueryMaxRangeBytes default; the array is charged 16
// bytes per element plus 24, as mongod estimates it.
const maxRangeBytes = 100 * 1024 * 1024

func (n rangeNode) eval(c *ctx) (any, error) {
	startV, err := n[0].eval(c)
	if err != nil {
		return nil, err
	}
	endV, err := n[1].eval(c)
	if err != nil {
		return nil, err
	}
	if !value.IsNumber(startV) {
		return nil, mongoerr.Newf(34443, "$range requires a numeric starting value, found value of type: %s", typeName(startV))
	}
	start, ok := int32Of(startV)
	if !ok {
		return nil, mongoerr.Newf(34444, "$range requires a starting value that can be represented as a 32-bit integer, found value: %s", value.Format(startV))
	}
	if !value.IsNumber(endV) {
		return nil, mongoerr.Newf(34445, "$range requires a numeric ending value, found value of type: %s", typeName(endV))
	}
	end, ok := int32Of(endV)
	if !ok {
		return nil, mongoerr.Newf(34446, "$range requires an ending value that can be represented as a 32-bit integer, found value: %s", value.Format(endV))
	}
	step := int64(1)
	if len(n) == 3 {
		stepV, err := n[2].eval(c)
		if err != nil {
			return nil, err
		}
		if !value.IsNumber(stepV) {
			return nil, mongoerr.Newf(34447, "$range requires a numeric step value, found value of type:%s", typeName(stepV))
		}
		s, ok := int32Of(stepV)
		if !ok {
			return nil, mongoerr.Newf(34448, "$range requires a step value that can be represented as a 32-bit integer, found value: %s", value.Format(stepV))
		}
		if s == 0 {
			return nil, mongoerr.Newf(34449, "$range requires a non-zero step value")
		}
		step = int64(s)
	}
	cur, last := int64(start), int64(end)
	length := int64(0)
	if steps := (last - cur) / step; steps >= 0 {
		length = steps + 1
	}
	if mem := 24 + length*16; mem >= maxRangeBytes {
		return nil, mongoerr.Newf(mongoerr.ExceededMemoryLimit, "$range would use too much memory (%d bytes) and cannot spill to disk. Memory limit: %d bytes", mem, maxRangeBytes)
	}
	out := make(bson.A, 0, length)
	for (step > 0 && cur < last) || (step < 0 && cur > last) {
		out = append(out, int32(cur))
		cur += step
	}
	return out, nil
}

type reduceNode struct {
	input, initial, in node
	this, value        int
}

func parseReduce(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(40075, "$reduce requires an object as an argument, found: %s", typeName(args))
	}
	inner, slots := sc.bind("this", "value")
	n := &reduceNode{this: slots[0], value: slots[1]}
	for _, e := range d {
		var err error
		switch e.Key {
		case "input":
			n.input, err = parse(e.Value, sc)
		case "initialValue":
			n.initial, err = parse(e.Value, sc)
		case "in":
			n.in, err = parse(e.Value, inner)
		default:
			return nil, mongoerr.Newf(40076, "$reduce found an unknown argument: %s", e.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case n.input == nil:
		return nil, mongoerr.Newf(40077, "$reduce requires 'input' to be specified")
	case n.initial == nil:
		return nil, mongoerr.Newf(40078, "$reduce requires 'initialValue' to be specified")
	case n.in == nil:
		return nil, mongoerr.Newf(40079, "$reduce requires 'in' to be specified")
	}
	return n, nil
}

func (n *reduceNode) eval(c *ctx) (any, error) {
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(in) {
		return nil, nil
	}
	arr, ok := in.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(40080, "$reduce requires that 'input' be an array, found: %s", value.Format(in))
	}
	acc, err := n.initial.eval(c)
	if err != nil {
		return nil, err
	}
	for _, e := range arr {
		c.slots[n.this] = e
		c.slots[n.value] = acc
		if acc, err = n.in.eval(c); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func reverseArray(v any) (any, error) {
	if value.IsNullish(v) {
		return nil, nil
	}
	arr, ok := v.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(34435, "The argument to $reverseArray must be an array, but was of type: %s", typeName(v))
	}
	if len(arr) < 2 {
		return arr, nil
	}
	out := make(bson.A, len(arr))
	for i, e := range arr {
		out[len(arr)-1-i] = e
	}
	return out, nil
}

type sliceNode []node

func parseSlice(args any, sc *scope) (node, error) {
	ops, err := rangeOperands("$slice", 2, 3, args, sc)
	if err != nil {
		return nil, err
	}
	return foldConstant(sliceNode(ops), ops...)
}

func (n sliceNode) eval(c *ctx) (any, error) {
	av, err := n[0].eval(c)
	if err != nil {
		return nil, err
	}
	second, err := n[1].eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(av) || value.IsNullish(second) {
		return nil, nil
	}
	arr, ok := av.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(28724, "First argument to $slice must be an array, but is of type: %s", typeName(av))
	}
	if !value.IsNumber(second) {
		return nil, mongoerr.Newf(28725, "Second argument to $slice must be a numeric value, but is of type: %s", typeName(second))
	}
	p, ok := int32Of(second)
	if !ok {
		return nil, mongoerr.Newf(28726, "Second argument to $slice can't be represented as a 32-bit integer: %s", formatDouble(numDouble(second)))
	}
	size := len(arr)
	var start, end int
	if len(n) == 2 {
		count := int(p)
		start, end = 0, size
		if count >= 0 {
			end = min(end, count)
		} else {
			start = max(0, size+count)
		}
	} else {
		if p < 0 {
			start = max(0, size+int(p))
		} else {
			start = min(size, int(p))
		}
		cv, err := n[2].eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(cv) {
			return nil, nil
		}
		if !value.IsNumber(cv) {
			return nil, mongoerr.Newf(28727, "Third argument to $slice must be numeric, but is of type: %s", typeName(cv))
		}
		count, ok := int32Of(cv)
		if !ok {
			return nil, mongoerr.Newf(28728, "Third argument to $slice can't be represented as a 32-bit integer: %s", formatDouble(numDouble(cv)))
		}
		if count <= 0 {
			return nil, mongoerr.Newf(28729, "Third argument to $slice must be positive: %d", count)
		}
		end = min(start+int(count), size)
	}
	out := make(bson.A, end-start)
	copy(out, arr[start:end])
	return out, nil
}

// sortArrayKey is one field of a $sortArray sortBy document.
type sortArrayKey struct {
	path string
	desc bool
}

type sortArrayNode struct {
	input node
	whole bool // sortBy is 1 or -1: compare the elements themselves
	desc  bool
	keys  []sortArrayKey
}

func parseSortArray(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(2942500, "$sortArray requires an object as an argument, found: %s", typeName(args))
	}
	n := &sortArrayNode{}
	hasSort := false
	for _, e := range d {
		switch e.Key {
		case "input":
			p, err := parse(e.Value, sc)
			if err != nil {
				return nil, err
			}
			n.input = p
		case "sortBy":
			if err := n.parseSortBy(e.Value); err != nil {
				return nil, err
			}
			hasSort = true
		default:
			return nil, mongoerr.Newf(2942501, "$sortArray found an unknown argument: %s", e.Key)
		}
	}
	if n.input == nil {
		return nil, mongoerr.Newf(2942502, "$sortArray requires 'input' to be specified")
	}
	if !hasSort {
		return nil, mongoerr.Newf(2942503, "$sortArray requires 'sortBy' to be specified")
	}
	return n, nil
}

// sortDirection reads a sort direction, which must be a number equal to 1 or -1.
func sortDirection(v any) (desc, ok bool) {
	if !value.IsNumber(v) {
		return false, false
	}
	switch numDouble(v) {
	case 1:
		return false, true
	case -1:
		return true, true
	}
	return false, false
}

func (n *sortArrayNode) parseSortBy(spec any) error {
	switch x := spec.(type) {
	case bson.D:
		if len(x) == 0 {
			return mongoerr.Newf(2942505, "The $sort pattern is empty when it should be a set of fields.")
		}
		n.keys = make([]sortArrayKey, len(x))
		for i, e := range x {
			desc, ok := sortDirection(e.Value)
			if !ok {
				return mongoerr.Newf(2942505, "The $sort element value must be either 1 or -1")
			}
			if e.Key == "" {
				return mongoerr.Newf(2942505, "The $sort field cannot be empty")
			}
			for _, part := range strings.Split(e.Key, ".") {
				if part == "" {
					return mongoerr.Newf(2942505, "The $sort field is a dotted field but has an empty part: %s", e.Key)
				}
			}
			n.keys[i] = sortArrayKey{path: e.Key, desc: desc}
		}
		return nil
	}
	if value.IsNumber(spec) {
		desc, ok := sortDirection(spec)
		if !ok {
			return mongoerr.Newf(2942506, "The $sort element value must be either 1 or -1")
		}
		n.whole, n.desc = true, desc
		return nil
	}
	return mongoerr.Newf(2942507, "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields")
}

func (n *sortArrayNode) eval(c *ctx) (any, error) {
	in, err := n.input.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(in) {
		return nil, nil
	}
	arr, ok := in.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(2942504, "The input argument to $sortArray must be an array, but was of type: %s", typeName(in))
	}
	if len(arr) < 2 {
		return arr, nil
	}
	out := slices.Clone(arr)
	if n.whole {
		slices.SortStableFunc(out, func(a, b any) int {
			if n.desc {
				return value.Compare(b, a)
			}
			return value.Compare(a, b)
		})
		return out, nil
	}
	// Extract each element's keys once: a document's value at each path (null when absent),
	// all nulls for a non-document.
	type keyed struct {
		keys []any
		v    any
	}
	ks := make([]keyed, len(out))
	for i, e := range out {
		ks[i] = keyed{keys: make([]any, len(n.keys)), v: e}
		doc, isDoc := e.(bson.D)
		for j, k := range n.keys {
			var kv any
			if isDoc {
				kv = sortArrayPathValue(doc, k.path)
			}
			if value.IsMissing(kv) {
				kv = nil
			}
			ks[i].keys[j] = kv
		}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for j, k := range n.keys {
			c := value.Compare(a.keys[j], b.keys[j])
			if c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	for i := range ks {
		out[i] = ks[i].v
	}
	return out, nil
}

// sortArrayPathValue reads a dotted path the way mongod's sort-key extraction for $sortArray
// does: a field with the whole dotted name first, then one level at a time through
// documents and (by numeric index) arrays, without fanning out over array elements.
func sortArrayPathValue(v any, path string) any {
	switch x := v.(type) {
	case bson.D:
		if r, ok := value.Lookup(x, path); ok {
			return r
		}
	case bson.A:
		if i, ok := arrayIndex(path); ok && i < len(x) {
			return x[i]
		}
	default:
		return value.Missing
	}
	left, right, found := strings.Cut(path, ".")
	if !found {
		return value.Missing
	}
	var sub any
	switch x := v.(type) {
	case bson.D:
		sub = value.Get(x, left)
	case bson.A:
		i, ok := arrayIndex(left)
		if !ok || i >= len(x) {
			return value.Missing
		}
		sub = x[i]
	}
	switch sub.(type) {
	case bson.D, bson.A:
		return sortArrayPathValue(sub, right)
	}
	return value.Missing
}

// arrayIndex parses a path component that names an array element.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

type zipNode struct {
	inputs   []node
	defaults []node
	longest  bool
}

func parseZip(args any, sc *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(34460, "$zip only supports an object as an argument, found %s", typeName(args))
	}
	n := &zipNode{}
	for _, e := range d {
		switch e.Key {
		case "inputs":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, mongoerr.Newf(34461, "inputs must be an array of expressions, found %s", typeName(e.Value))
			}
			for _, x := range arr {
				p, err := parse(x, sc)
				if err != nil {
					return nil, err
				}
				n.inputs = append(n.inputs, p)
			}
		case "defaults":
			arr, ok := e.Value.(bson.A)
			if !ok {
				return nil, mongoerr.Newf(34462, "defaults must be an array of expressions, found %s", typeName(e.Value))
			}
			for _, x := range arr {
				p, err := parse(x, sc)
				if err != nil {
					return nil, err
				}
				n.defaults = append(n.defaults, p)
			}
		case "useLongestLength":
			b, ok := e.Value.(bool)
			if !ok {
				return nil, mongoerr.Newf(34463, "useLongestLength must be a bool, found %s", typeName(e.Value))
			}
			n.longest = b
		default:
			return nil, mongoerr.Newf(34464, "$zip found an unknown argument: %s", e.Key)
		}
	}
	switch {
	case len(n.inputs) == 0:
		return nil, mongoerr.Newf(34465, "$zip requires at least one input array")
	case !n.longest && len(n.defaults) > 0:
		return nil, mongoerr.Newf(34466, "cannot specify defaults unless useLongestLength is true")
	case len(n.defaults) > 0 && len(n.defaults) != len(n.inputs):
		return nil, mongoerr.Newf(34467, "defaults and inputs must have the same length")
	}
	return n, nil
}

func (n *zipNode) eval(c *ctx) (any, error) {
	arrays := make([]bson.A, len(n.inputs))
	minLen, maxLen := 0, 0
	for i, in := range n.inputs {
		v, err := in.eval(c)
		if err != nil {
			return nil, err
		}
		if value.IsNullish(v) {
			return nil, nil
		}
		arr, ok := v.(bson.A)
		if !ok {
			return nil, mongoerr.Newf(34468, "$zip found a non-array expression in input: %s", value.Format(v))
		}
		arrays[i] = arr
		if i == 0 || len(arr) < minLen {
			minLen = len(arr)
		}
		maxLen = max(maxLen, len(arr))
	}
	defaults := make([]any, len(n.inputs))
	if minLen != maxLen {
		for i, d := range n.defaults {
			v, err := d.eval(c)
			if err != nil {
				return nil, err
			}
			if value.IsMissing(v) {
				v = nil
			}
			defaults[i] = v
		}
	}
	length := minLen
	if n.longest {
		length = maxLen
	}
	out := make(bson.A, length)
	for row := range length {
		item := make(bson.A, len(arrays))
		for col, arr := range arrays {
			if row < len(arr) {
				item[col] = arr[row]
			} else {
				item[col] = defaults[col]
			}
		}
		out[row] = item
	}
	return out, nil
}
