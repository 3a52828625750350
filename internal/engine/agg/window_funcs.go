package agg

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// parseWindowFunction compiles one output of $setWindowFields: {<$function>: <arg>,
// window: {...}}.
func parseWindowFunction(field string, spec any, sort *winSort, vars []string) (winFunc, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "The field '%s' must be an object", field)
	}
	op := ""
	for _, e := range d {
		if strings.HasPrefix(e.Key, "$") {
			if !expr.IsAccumulator(e.Key, expr.InWindow) {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "Unrecognized window function, %s", e.Key)
			}
			op = e.Key
			break
		}
	}
	if op == "" {
		msg := "Expected a $-prefixed window function"
		if len(d) > 0 && d[0].Key != "" {
			msg += ", " + d[0].Key
		}
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "%s", msg)
	}
	switch op {
	case "$rank", "$denseRank", "$documentNumber":
		return parseWinRank(op, d, sort)
	case "$shift":
		return parseWinShift(d, sort, vars)
	case "$expMovingAvg":
		return parseWinExpMovingAvg(d, sort, vars)
	case "$derivative":
		return parseWinDerivative(d, sort, vars)
	case "$integral":
		return parseWinIntegral(d, sort, vars)
	case "$locf", "$linearFill":
		return parseWinFill(op, d, sort, vars)
	}
	// The functions that take an argument and an optional window.
	var arg any
	bounds := winBounds{}
	seenWindow, seenOp := false, false
	for _, e := range d {
		switch {
		case e.Key == "window":
			if seenWindow {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "saw multiple 'window' fields in '%s' expression", op)
			}
			seenWindow = true
			b, err := parseWindowBounds(e.Value, sort, vars)
			if err != nil {
				return nil, err
			}
			bounds = b
		case e.Key == op && !seenOp:
			arg, seenOp = e.Value, true
		case expr.IsAccumulator(e.Key, expr.InWindow):
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot specify two functions in window function spec")
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Window function found an unknown argument: %s", e.Key)
		}
	}
	switch op {
	case "$first", "$last":
		e, err := expr.Compile(arg, vars...)
		if err != nil {
			return nil, err
		}
		return &winEndpoint{arg: e, bounds: bounds, last: op == "$last"}, nil
	case "$covariancePop", "$covarianceSamp":
		e, err := expr.Compile(arg, vars...)
		if err != nil {
			return nil, err
		}
		return &winSliding{bounds: bounds, newState: newWinCovariance(e, op == "$covarianceSamp")}, nil
	}
	acc, err := expr.CompileAccumulator(op, arg, expr.InWindow, vars...)
	if err != nil {
		return nil, err
	}
	return &winSliding{bounds: bounds, newState: newWinAccState(acc, bounds.lower.kind == winUnbounded)}, nil
}

// winState is the state of a window function over a sliding window of a partition. The
// window is the documents [lo, hi] by index; add receives the next document after hi, and
// remove the document at lo.
type winState interface {
	add(c *Context, p *winPartition, i int) error
	remove(c *Context, p *winPartition, i int) error
	result() (any, error)
}

// winStateFactory returns a fresh state for a partition; removable is false for states
// that cannot drop documents, which the window must then recompute.
type winStateFactory func(c *Context, p *winPartition) (st winState, removable bool, err error)

// winSliding runs a winState over every window of a partition: O(n) when the state can
// remove documents or the window only grows, else O(n·w).
type winSliding struct {
	bounds   winBounds
	newState winStateFactory
}

func (f *winSliding) eval(c *Context, p *winPartition, out []any) error {
	n := len(p.docs)
	st, removable, err := f.newState(c, p)
	if err != nil {
		return err
	}
	if f.bounds.whole() && !f.bounds.ranged {
		// One window for the whole partition. (A whole range window still goes through
		// spans, which checks the sortBy values as mongod does.)
		for i := range n {
			if err := st.add(c, p, i); err != nil {
				return err
			}
		}
		r, err := st.result()
		if err != nil {
			return err
		}
		for i := range out {
			out[i] = r
		}
		return nil
	}
	span, err := f.bounds.spans(c, p)
	if err != nil {
		return err
	}
	if !removable && f.bounds.lower.kind != winUnbounded {
		return f.recompute(c, p, span, out)
	}
	a, b := 0, 0 // the state holds the documents [a, b)
	for i := range n {
		lo, hi := span(i)
		if lo >= b {
			for ; a < b; a++ {
				if err := st.remove(c, p, a); err != nil {
					return err
				}
			}
			a, b = lo, lo
		}
		for ; b <= hi; b++ {
			if err := st.add(c, p, b); err != nil {
				return err
			}
		}
		for ; a < lo; a++ {
			if err := st.remove(c, p, a); err != nil {
				return err
			}
		}
		if out[i], err = st.result(); err != nil {
			return err
		}
	}
	return nil
}

// recompute evaluates every window from scratch, for states that cannot remove.
func (f *winSliding) recompute(c *Context, p *winPartition, span winSpanFunc, out []any) error {
	for i := range out {
		st, _, err := f.newState(c, p)
		if err != nil {
			return err
		}
		lo, hi := span(i)
		for j := lo; j <= hi; j++ {
			if err := st.add(c, p, j); err != nil {
				return err
			}
		}
		if out[i], err = st.result(); err != nil {
			return err
		}
	}
	return nil
}

// winAccState adapts an accumulator state.
type winAccState struct {
	st  expr.State
	rem expr.RemovableState
}

// newWinAccState uses the accumulator's $group semantics for windows that only grow (as
// mongod does for left-unbounded windows) and its removable form otherwise.
func newWinAccState(acc *expr.Accumulator, growing bool) winStateFactory {
	return func(c *Context, _ *winPartition) (winState, bool, error) {
		if !growing {
			rem, ok, err := acc.NewRemovableState(c.Env)
			if err != nil {
				return nil, false, err
			}
			if ok {
				return &winAccState{st: rem, rem: rem}, true, nil
			}
		}
		return &winAccState{st: acc.NewState()}, false, nil
	}
}

func (s *winAccState) add(c *Context, p *winPartition, i int) error {
	return s.st.Add(c.Env, p.docs[i])
}

func (s *winAccState) remove(c *Context, p *winPartition, i int) error {
	return s.rem.Remove(c.Env, p.docs[i])
}

func (s *winAccState) result() (any, error) { return s.st.Result() }

// winEndpoint is $first or $last: the argument evaluated on the window's first or last
// document; null for an empty window or a missing value.
type winEndpoint struct {
	arg    *expr.Expr
	bounds winBounds
	last   bool
}

func (f *winEndpoint) eval(c *Context, p *winPartition, out []any) error {
	span, err := f.bounds.spans(c, p)
	if err != nil {
		return err
	}
	for i := range out {
		lo, hi := span(i)
		if hi < lo {
			out[i] = nil
			continue
		}
		j := lo
		if f.last {
			j = hi
		}
		v, err := f.arg.Eval(c.Env, p.docs[j])
		if err != nil {
			return err
		}
		if value.IsMissing(v) {
			v = nil
		}
		out[i] = v
	}
	return nil
}

// winShift is $shift: the output expression evaluated on the document 'by' positions
// away, or the default when there is none (or the value is missing).
type winShift struct {
	output *expr.Expr
	by     int
	def    any
}

func parseWinShift(d bson.D, sort *winSort, vars []string) (winFunc, error) {
	var argSpec bson.D
	found := false
	for _, e := range d {
		switch {
		case e.Key == "window":
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "$shift does not accept a 'window' field")
		case expr.IsAccumulator(e.Key, expr.InWindow):
			if found {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot specify multiple functions in window function spec")
			}
			found = true
			a, ok := e.Value.(bson.D)
			if !ok {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "Argument to $shift must be an object")
			}
			argSpec = a
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Window function found an unknown argument: %s", e.Key)
		}
	}
	f := &winShift{}
	var hasBy bool
	for _, e := range argSpec {
		switch e.Key {
		case "output":
			out, err := expr.Compile(e.Value, vars...)
			if err != nil {
				return nil, err
			}
			f.output = out
		case "default":
			c, ok, err := winConstant(e.Value, vars)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "'$shift:default' expression must yield a constant value.")
			}
			f.def = c
		case "by":
			n, ok := winInt32(e.Value)
			if !ok {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "'$shift:by' field must be an integer, but found  by: %s", value.Format(e.Value))
			}
			f.by, hasBy = int(n), true
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Unknown argument in $shift")
		}
	}
	if f.output == nil {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$shift requires an 'output' expression.")
	}
	if !hasBy {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$shift requires 'by' as an integer value.")
	}
	if !sort.present {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "'$shift' requires a sortBy")
	}
	return f, nil
}

func (f *winShift) eval(c *Context, p *winPartition, out []any) error {
	n := len(p.docs)
	for i := range out {
		j := i + f.by
		if j < 0 || j >= n {
			out[i] = f.def
			continue
		}
		v, err := f.output.Eval(c.Env, p.docs[j])
		if err != nil {
			return err
		}
		if value.IsMissing(v) {
			v = f.def
		}
		out[i] = v
	}
	return nil
}

// winRank is $rank, $denseRank or $documentNumber: positions in the sortBy order, ties
// (equal sort keys) sharing a rank.
type winRank struct{ op string }

func parseWinRank(op string, d bson.D, sort *winSort) (winFunc, error) {
	if len(d) != 1 {
		return nil, mongoerr.Newf(5371601, "Rank style window functions take no other arguments")
	}
	if a, ok := d[0].Value.(bson.D); !ok || len(a) != 0 {
		return nil, mongoerr.Newf(5371603, "%s must be specified with '{}' as the value", op)
	}
	if !sort.single() {
		return nil, mongoerr.Newf(5371602, "%s must be specified with a top level sortBy expression with exactly one element", op)
	}
	return &winRank{op: op}, nil
}

func (f *winRank) eval(_ *Context, p *winPartition, out []any) error {
	var keys []sorter.Key
	if f.op != "$documentNumber" {
		var err error
		if keys, err = p.sortKeys(); err != nil {
			return err
		}
	}
	var rank int64
	for i := range out {
		switch {
		case f.op == "$documentNumber":
			rank = int64(i) + 1
		case i == 0 || p.st.sorter.CompareKeys(keys[i-1], keys[i]) != 0:
			if f.op == "$rank" {
				rank = int64(i) + 1
			} else {
				rank++
			}
		}
		out[i] = winIntOrLong(rank)
	}
	return nil
}

// winFill is $locf (the last non-null value so far) or $linearFill (nulls interpolated
// between the surrounding values along the sortBy field).
type winFill struct {
	arg    *expr.Expr
	linear bool
}

func parseWinFill(op string, d bson.D, sort *winSort, vars []string) (winFunc, error) {
	var arg any
	found, window := false, false
	for _, e := range d {
		switch {
		case e.Key == "window":
			window = true
		case expr.IsAccumulator(e.Key, expr.InWindow):
			if found {
				return nil, mongoerr.Newf(mongoerr.FailedToParse, "Cannot specify two functions in window function spec")
			}
			found, arg = true, e.Value
		default:
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Window function found an unknown argument: %s", e.Key)
		}
	}
	e, err := expr.Compile(arg, vars...)
	if err != nil {
		return nil, err
	}
	if window {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "'window' field is not allowed in %s", op)
	}
	if op == "$linearFill" && !sort.single() {
		return nil, mongoerr.Newf(605001, "$linearFill must be specified with a top level sortBy expression with exactly one element")
	}
	return &winFill{arg: e, linear: op == "$linearFill"}, nil
}

func (f *winFill) eval(c *Context, p *winPartition, out []any) error {
	ys := make([]any, len(p.docs))
	for i, d := range p.docs {
		v, err := f.arg.Eval(c.Env, d)
		if err != nil {
			return err
		}
		ys[i] = v
	}
	if !f.linear {
		var last any
		for i, v := range ys {
			if !value.IsNullish(v) {
				last = v
			}
			out[i] = last
		}
		return nil
	}
	xs, err := p.sortValues(c)
	if err != nil {
		return err
	}
	prev := -1 // index of the last document with a value
	next := -1 // index of the next one, once looked up
	var lastX any = value.Missing
	for i, y := range ys {
		x := xs[i]
		if !value.IsNumber(y) && !value.IsNullish(y) {
			return mongoerr.Newf(mongoerr.TypeMismatch, "Value to be filled must be numeric or nullish, but found %s", winTypeName(y))
		}
		_, xDate := x.(bson.DateTime)
		if !value.IsNumber(x) && !xDate {
			return mongoerr.Newf(mongoerr.TypeMismatch, "Value of the sortBy field must be numeric or a date, but found %s", winTypeName(x))
		}
		if !value.IsMissing(lastX) {
			if value.Compare(x, lastX) == 0 {
				return mongoerr.Newf(6050106, "There can be no repeated values in the sort field")
			}
			if _, lastDate := lastX.(bson.DateTime); lastDate != xDate {
				return mongoerr.Newf(mongoerr.TypeMismatch, "Conflicting sort value types, previously received type %s, but found %s", winTypeName(lastX), winTypeName(x))
			}
		}
		lastX = x
		if !value.IsNullish(y) {
			prev = i
			out[i] = y
			continue
		}
		out[i] = nil
		if prev < 0 {
			continue
		}
		if next <= i {
			// Find the next document with a value once per run of nulls.
			next = len(ys)
			for j := i + 1; j < len(ys); j++ {
				if !value.IsNullish(ys[j]) && !value.IsNullish(xs[j]) {
					next = j
					break
				}
			}
		}
		if next == len(ys) {
			continue
		}
		v, err := winInterpolate(xs[prev], ys[prev], xs[next], ys[next], x)
		if err != nil {
			return err
		}
		out[i] = v
	}
	return nil
}

// winInterpolate computes y1 + (x - x1) * ((y2 - y1) / (x2 - x1)) with mongod's
// arithmetic (dates subtract to milliseconds).
func winInterpolate(x1, y1, x2, y2, x any) (any, error) {
	dy, err := winSubtract(y2, y1)
	if err != nil {
		return nil, err
	}
	dx, err := winSubtract(x2, x1)
	if err != nil {
		return nil, err
	}
	slope, err := winDivide(dy, dx)
	if err != nil {
		return nil, err
	}
	off, err := winSubtract(x, x1)
	if err != nil {
		return nil, err
	}
	prod, err := value.Multiply(off, slope)
	if err != nil {
		return nil, err
	}
	return value.Add(y1, prod)
}
