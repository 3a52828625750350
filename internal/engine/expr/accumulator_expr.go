package expr

import (
	"math"
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Expression forms of the accumulators ($sum, $avg, … in $project), the array operators
// $first, $last, $firstN, $lastN, $maxN and $minN, and $function (unsupported).
func init() {
	for _, op := range []struct {
		name string
		kind accKind
	}{
		{"$sum", accSum}, {"$avg", accAvg}, {"$min", accMin}, {"$max", accMax},
		{"$stdDevPop", accStdDevPop}, {"$stdDevSamp", accStdDevSamp},
	} {
		register(op.name, func(args any, sc *scope) (node, error) {
			ops, err := accOperands(args, sc)
			if err != nil {
				return nil, err
			}
			return accConstFold(accFoldNode{kind: op.kind, args: ops}, ops)
		})
	}
	register("$median", func(args any, sc *scope) (node, error) { return parseAccQuantile("$median", args, sc) })
	register("$percentile", func(args any, sc *scope) (node, error) { return parseAccQuantile("$percentile", args, sc) })
	// $function runs JavaScript, which this server does not have.
	register("$function", func(any, *scope) (node, error) {
		return nil, mongoerr.Newf(mongoerr.NotImplemented, "$function is not supported: this server does not run JavaScript")
	})
	register("$first", func(args any, sc *scope) (node, error) { return parseAccArrayEnd("$first", args, sc) })
	register("$last", func(args any, sc *scope) (node, error) { return parseAccArrayEnd("$last", args, sc) })
	for _, op := range []struct {
		name string
		kind accKind
	}{{"$firstN", accFirstN}, {"$lastN", accLastN}, {"$maxN", accMaxN}, {"$minN", accMinN}} {
		register(op.name, func(args any, sc *scope) (node, error) {
			input, n, _, err := accParseNArgs(op.name, args, func(spec any) (node, error) { return parse(spec, sc) })
			if err != nil {
				return nil, err
			}
			return accArrayNNode{kind: op.kind, input: input, n: n}, nil
		})
	}
}

// accOperands parses an operator's operands: the items of an array argument, or the
// argument itself as the only operand.
func accOperands(args any, sc *scope) ([]node, error) {
	arr, ok := args.(bson.A)
	if !ok {
		n, err := parse(args, sc)
		if err != nil {
			return nil, err
		}
		return []node{n}, nil
	}
	out := make([]node, len(arr))
	for i, a := range arr {
		n, err := parse(a, sc)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// accFoldNode is an accumulator used as an expression: a single operand that evaluates
// to an array has its elements folded; otherwise each operand's value is folded as is
// ({$sum: "$a"} of a non-numeric a is 0, {$max: [[1, 2], 0]} is [1, 2]).
type accFoldNode struct {
	kind accKind
	args []node
}

// each calls f on every value to fold.
func (n accFoldNode) each(c *ctx, f func(v any)) error {
	if len(n.args) == 1 {
		v, err := n.args[0].eval(c)
		if err != nil {
			return err
		}
		if arr, ok := v.(bson.A); ok {
			for _, e := range arr {
				f(e)
			}
			return nil
		}
		f(v)
		return nil
	}
	for _, a := range n.args {
		v, err := a.eval(c)
		if err != nil {
			return err
		}
		f(v)
	}
	return nil
}

func (n accFoldNode) eval(c *ctx) (any, error) {
	// Folders live on the stack: expression evaluation should not allocate state.
	switch n.kind {
	case accSum:
		var f accSumFolder
		if err := n.each(c, func(v any) { _ = f.fold(v) }); err != nil {
			return nil, err
		}
		return f.result()
	case accAvg:
		var f accAvgFolder
		if err := n.each(c, func(v any) { _ = f.fold(v) }); err != nil {
			return nil, err
		}
		return f.result()
	case accMin, accMax:
		f := accMinMaxFolder{sense: 1}
		if n.kind == accMax {
			f.sense = -1
		}
		if err := n.each(c, func(v any) { _ = f.fold(v) }); err != nil {
			return nil, err
		}
		return f.result()
	default: // $stdDevPop, $stdDevSamp
		f := accStdDevFolder{samp: n.kind == accStdDevSamp}
		if err := n.each(c, func(v any) { _ = f.fold(v) }); err != nil {
			return nil, err
		}
		return f.result()
	}
}

// accQuantileNode is $median or $percentile as an expression: a number is its own
// percentile, an array's numeric elements are ranked (no interpolation), anything else
// gives null (an array of nulls for $percentile).
type accQuantileNode struct {
	median bool
	input  node
	ps     []float64
	p      node // set when p is only known at run time
}

func parseAccQuantile(op string, args any, sc *scope) (node, error) {
	spec, err := accParsePercentile(op, args, true)
	if err != nil {
		return nil, err
	}
	q := accQuantileNode{median: op == "$median"}
	if q.input, err = parse(spec.input, sc); err != nil {
		return nil, err
	}
	if q.median {
		q.ps = []float64{0.5}
		return q, nil
	}
	p, err := parse(spec.pSpec, sc)
	if err != nil {
		return nil, err
	}
	if l, ok := p.(literal); ok {
		q.ps, err = accParsePs(l.v)
		return q, err
	}
	q.p = p
	return q, nil
}

func (q accQuantileNode) eval(c *ctx) (any, error) {
	ps := q.ps
	if q.p != nil {
		pv, err := q.p.eval(c)
		if err != nil {
			return nil, err
		}
		if ps, err = accParsePs(pv); err != nil {
			return nil, err
		}
	}
	v, err := q.input.eval(c)
	if err != nil {
		return nil, err
	}
	var vals []float64
	switch x := v.(type) {
	case bson.A:
		vals = make([]float64, 0, len(x))
		for _, e := range x {
			if f, ok := value.ToFloat64(e); ok && !math.IsNaN(f) {
				vals = append(vals, f)
			}
		}
		slices.Sort(vals)
	default:
		if f, ok := value.ToFloat64(v); ok {
			vals = []float64{f} // a single number, even NaN, is every percentile
		}
	}
	return accPercentiles(vals, ps, q.median), nil
}

// accArrayEndNode is $first or $last of an array: null for null or missing, missing for
// an empty array.
type accArrayEndNode struct {
	last bool
	arg  node
}

func parseAccArrayEnd(op string, args any, sc *scope) (node, error) {
	ops, err := accOperands(args, sc)
	if err != nil {
		return nil, err
	}
	if len(ops) != 1 {
		return nil, mongoerr.Newf(16020, "Expression %s takes exactly 1 arguments. %d were passed in.", op, len(ops))
	}
	return accConstFold(accArrayEndNode{last: op == "$last", arg: ops[0]}, ops)
}

// accConstFold evaluates n once when all its operands are literals, as mongod's optimizer
// folds these operators (so, as there, a constant that fails fails the whole command even
// when no document is evaluated).
func accConstFold(n node, ops []node) (node, error) {
	for _, op := range ops {
		if _, ok := op.(literal); !ok {
			return n, nil
		}
	}
	v, err := n.eval(&ctx{})
	if err != nil {
		return nil, err
	}
	return literal{v}, nil
}

func (n accArrayEndNode) eval(c *ctx) (any, error) {
	v, err := n.arg.eval(c)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(v) {
		return nil, nil
	}
	arr, ok := v.(bson.A)
	if !ok {
		op := "$first"
		if n.last {
			op = "$last"
		}
		return nil, mongoerr.Newf(28689, "%s's argument must be an array, but is %s", op, value.TypeName(v))
	}
	switch {
	case len(arr) == 0:
		return value.Missing, nil
	case n.last:
		return arr[len(arr)-1], nil
	}
	return arr[0], nil
}

// accArrayNNode is $firstN, $lastN, $maxN or $minN of an array.
type accArrayNNode struct {
	kind     accKind
	input, n node
}

func (a accArrayNNode) eval(c *ctx) (any, error) {
	nv, err := a.n.eval(c)
	if err != nil {
		return nil, err
	}
	n64, err := accValidateN(nv)
	if err != nil {
		return nil, err
	}
	v, err := a.input.eval(c)
	if err != nil {
		return nil, err
	}
	arr, ok := v.(bson.A)
	if !ok {
		return nil, mongoerr.Newf(5788200, "Input must be an array")
	}
	n := int(min(n64, int64(len(arr))))
	switch a.kind {
	case accFirstN:
		return append(bson.A{}, arr[:n]...), nil
	case accLastN:
		return append(bson.A{}, arr[len(arr)-n:]...), nil
	}
	isMin := a.kind == accMinN
	var vals []any
	for _, e := range arr {
		vals = accInsertMinMax(vals, e, n64, isMin)
	}
	return accMinMaxNResult(vals, n, isMin), nil
}
