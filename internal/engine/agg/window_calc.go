package agg

// The numeric window functions: $derivative, $integral, $expMovingAvg, $covariancePop and
// $covarianceSamp. Their arithmetic follows mongod's step by step (same operations, same
// order, same types) so that results match it exactly.

import (
	"math"
	"sync"

	"github.com/cockroachdb/apd/v3"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// winSubtract is $subtract on two values: numbers, dates (date - date is milliseconds,
// date - number a date), null when either is nullish.
func winSubtract(a, b any) (any, error) {
	if value.IsNumber(a) && value.IsNumber(b) {
		return value.Subtract(a, b)
	}
	if value.IsNullish(a) || value.IsNullish(b) {
		return nil, nil
	}
	if da, ok := a.(bson.DateTime); ok {
		switch y := b.(type) {
		case bson.DateTime:
			return int64(da) - int64(y), nil
		default:
			if value.IsNumber(y) {
				f, _ := value.ToFloat64(y)
				return bson.DateTime(int64(da) - int64(math.Round(f))), nil
			}
		}
	}
	return nil, mongoerr.Newf(16556, "cant $subtract %s from %s", winTypeName(b), winTypeName(a))
}

// errWinDivideByZero marks a division by zero, which some window functions turn into null.
var errWinDivideByZero = mongoerr.Newf(mongoerr.BadValue, "can't $divide by zero")

// winDivide is $divide on two values.
func winDivide(a, b any) (any, error) {
	if value.IsNumber(a) && value.IsNumber(b) {
		if value.Compare(b, int32(0)) == 0 {
			return nil, errWinDivideByZero
		}
		return value.Divide(a, b)
	}
	if value.IsNullish(a) || value.IsNullish(b) {
		return nil, nil
	}
	return nil, mongoerr.Newf(16609, "$divide only supports numeric types, not %s and %s", winTypeName(a), winTypeName(b))
}

// winValueAcc folds plain values into a removable $sum or $avg state, through a one-field
// scratch document (the states evaluate "$v" on it and keep only the value).
type winValueAcc struct {
	st  expr.RemovableState
	doc bson.D
}

var winValueAccs = sync.OnceValues(func() (map[string]*expr.Accumulator, error) {
	out := map[string]*expr.Accumulator{}
	for _, op := range []string{"$sum", "$avg"} {
		a, err := expr.CompileAccumulator(op, "$v", expr.InWindow)
		if err != nil {
			return nil, err
		}
		out[op] = a
	}
	return out, nil
})

func newWinValueAcc(env *expr.Env, op string) (*winValueAcc, error) {
	accs, err := winValueAccs()
	if err != nil {
		return nil, err
	}
	st, ok, err := accs[op].NewRemovableState(env)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, mongoerr.Newf(mongoerr.InternalError, "%s has no removable form", op)
	}
	return &winValueAcc{st: st, doc: bson.D{{Key: "v"}}}, nil
}

func (a *winValueAcc) add(env *expr.Env, v any) error {
	a.doc[0].Value = v
	return a.st.Add(env, a.doc)
}

func (a *winValueAcc) remove(env *expr.Env, v any) error {
	a.doc[0].Value = v
	return a.st.Remove(env, a.doc)
}

func (a *winValueAcc) result() (any, error) { return a.st.Result() }

// parseWinUnitFunc parses the common shape of $derivative and $integral:
// {$op: {input, unit}, window}. Both need a single-field sortBy.
func parseWinUnitFunc(op string, d bson.D, sort *winSort, vars []string) (input *expr.Expr, unitMs int64, bounds winBounds, hasWindow bool, err error) {
	fail := func(format string, args ...any) (*expr.Expr, int64, winBounds, bool, error) {
		return nil, 0, winBounds{}, false, mongoerr.Newf(mongoerr.FailedToParse, format, args...)
	}
	switch {
	case !sort.present:
		return fail("%s requires a sortBy", op)
	case len(sort.fields) != 1:
		return fail("%s requires a non-compound sortBy", op)
	}
	var args any
	for _, e := range d {
		switch e.Key {
		case "window":
			if hasWindow {
				return fail("There can be only one 'window' field for %s", op)
			}
			if bounds, err = parseWindowBounds(e.Value, sort, vars); err != nil {
				return nil, 0, winBounds{}, false, err
			}
			hasWindow = true
		case op:
			args = e.Value
		default:
			return fail("%s got unexpected argument: %s", op, e.Key)
		}
	}
	ad, ok := args.(bson.D)
	if !ok {
		return fail("%s expects an object, but got a %s: %s", op, winTypeName(args), value.Format(args))
	}
	hasUnit := false
	for _, e := range ad {
		switch e.Key {
		case "input":
			if input, err = expr.Compile(e.Value, vars...); err != nil {
				return nil, 0, winBounds{}, false, err
			}
		case "unit":
			if hasUnit {
				return fail("There can be only one 'unit' field for %s", op)
			}
			hasUnit = true
			if _, ok := e.Value.(string); !ok {
				return fail("unit' must be a string, but got %s", winTypeName(e.Value))
			}
			u, err := parseWinTimeUnit(e.Value)
			if err != nil {
				return nil, 0, winBounds{}, false, err
			}
			if u == winYear || u == winQuarter || u == winMonth {
				return nil, 0, winBounds{}, false, mongoerr.Newf(5490710, "unit must be 'week' or smaller")
			}
			unitMs = winUnitMillis[u]
		default:
			return fail("%s got unexpected argument: %s", op, e.Key)
		}
	}
	if input == nil {
		return fail("%s requires an 'input' expression", op)
	}
	return input, unitMs, bounds, hasWindow, nil
}

// winDerivative is $derivative: (input at the window's last document - input at its first)
// / (their sortBy difference), per unit when one is given.
type winDerivative struct {
	input  *expr.Expr
	unitMs int64
	bounds winBounds
}

func parseWinDerivative(d bson.D, sort *winSort, vars []string) (winFunc, error) {
	input, unitMs, bounds, hasWindow, err := parseWinUnitFunc("$derivative", d, sort, vars)
	if err != nil {
		return nil, err
	}
	if !hasWindow {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$derivative requires explicit window bounds")
	}
	return &winDerivative{input: input, unitMs: unitMs, bounds: bounds}, nil
}

func (f *winDerivative) eval(c *Context, p *winPartition, out []any) error {
	span, err := f.bounds.spans(c, p)
	if err != nil {
		return err
	}
	xs, err := p.sortValues(c)
	if err != nil {
		return err
	}
	for i := range out {
		lo, hi := span(i)
		if hi < lo {
			out[i] = nil
			continue
		}
		if out[i], err = f.at(c, p, xs, lo, hi); err != nil {
			return err
		}
	}
	return nil
}

func (f *winDerivative) at(c *Context, p *winPartition, xs []any, lo, hi int) (any, error) {
	left, right := xs[lo], xs[hi]
	_, leftDate := left.(bson.DateTime)
	_, rightDate := right.(bson.DateTime)
	if f.unitMs != 0 {
		if !leftDate || !rightDate {
			return nil, mongoerr.Newf(5624900, "$derivative with 'unit' expects the sortBy field to be a Date")
		}
	} else {
		if leftDate || rightDate {
			return nil, mongoerr.Newf(5624901, "$derivative where the sortBy is a Date requires an 'unit'")
		}
		if !value.IsNumber(left) || !value.IsNumber(right) {
			return nil, mongoerr.Newf(5624902, "$derivative (with no 'unit') expects the sortBy field to be numeric")
		}
	}
	run, err := winSubtract(right, left)
	if err != nil {
		return nil, err
	}
	yr, err := f.input.Eval(c.Env, p.docs[hi])
	if err != nil {
		return nil, err
	}
	yl, err := f.input.Eval(c.Env, p.docs[lo])
	if err != nil {
		return nil, err
	}
	rise, err := winSubtract(yr, yl)
	if err != nil {
		return nil, err
	}
	if value.IsNullish(rise) {
		return nil, mongoerr.Newf(5624903, "$derivative input must not be null or missing")
	}
	res, err := winDivide(rise, run)
	if err == errWinDivideByZero {
		// One document (or two at the same time): no slope.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f.unitMs != 0 {
		return value.Multiply(res, f.unitMs)
	}
	return res, nil
}

// winIntegral is $integral: the trapezoidal area under input along the sortBy field over
// the window, per unit when one is given.
type winIntegral struct {
	input  *expr.Expr
	unitMs int64
}

func parseWinIntegral(d bson.D, sort *winSort, vars []string) (winFunc, error) {
	input, unitMs, bounds, _, err := parseWinUnitFunc("$integral", d, sort, vars)
	if err != nil {
		return nil, err
	}
	f := &winIntegral{input: input, unitMs: unitMs}
	return &winSliding{bounds: bounds, newState: func(c *Context, p *winPartition) (winState, bool, error) {
		sum, err := newWinValueAcc(c.Env, "$sum")
		if err != nil {
			return nil, false, err
		}
		xs, err := p.sortValues(c)
		if err != nil {
			return nil, false, err
		}
		return &winIntegralState{f: f, sum: sum, xs: xs, ys: make([]any, len(p.docs)), have: make([]bool, len(p.docs))}, true, nil
	}}, nil
}

// winIntegralState sums the trapezoids between consecutive documents of the window.
type winIntegralState struct {
	f     *winIntegral
	sum   *winValueAcc
	xs    []any
	ys    []any
	have  []bool // ys[i] evaluated
	count int    // documents in the window
	nans  int
}

// point returns document i's (sortBy, input) pair after checking its types.
func (s *winIntegralState) point(c *Context, p *winPartition, i int) (x, y any, err error) {
	if !s.have[i] {
		v, err := s.f.input.Eval(c.Env, p.docs[i])
		if err != nil {
			return nil, nil, err
		}
		s.ys[i], s.have[i] = v, true
	}
	x, y = s.xs[i], s.ys[i]
	_, xDate := x.(bson.DateTime)
	if !value.IsNumber(y) || !(value.IsNumber(x) || xDate) {
		return nil, nil, mongoerr.Newf(5423900, "The input value of $integral window function must be a vector of 2 value, the first value must be numeric or date type and the second must be numeric.")
	}
	if s.f.unitMs != 0 && !xDate {
		return nil, nil, mongoerr.Newf(5423901, "$integral with 'outputUnit' expects the sortBy field to be a Date")
	}
	if s.f.unitMs == 0 && !value.IsNumber(x) {
		return nil, nil, mongoerr.Newf(5423902, "$integral (with no 'outputUnit') expects the sortBy field to be numeric")
	}
	return x, y, nil
}

// trapezoid is the area between points a and b (0 when a value is NaN).
func (s *winIntegralState) trapezoid(c *Context, p *winPartition, a, b int) (any, error) {
	x1, y1, err := s.point(c, p, a)
	if err != nil {
		return nil, err
	}
	x2, y2, err := s.point(c, p, b)
	if err != nil {
		return nil, err
	}
	if value.IsNaN(x1) || value.IsNaN(y1) || value.IsNaN(x2) || value.IsNaN(y2) {
		return int32(0), nil
	}
	dx, err := winSubtract(x2, x1)
	if err != nil {
		return nil, err
	}
	sumY, err := value.Add(y2, y1)
	if err != nil {
		return nil, err
	}
	area, err := value.Multiply(sumY, dx)
	if err != nil {
		return nil, err
	}
	return value.Divide(area, 2.0)
}

func (s *winIntegralState) add(c *Context, p *winPartition, i int) error {
	x, y, err := s.point(c, p, i)
	if err != nil {
		return err
	}
	if value.IsNaN(x) || value.IsNaN(y) {
		s.nans++
	}
	if s.count > 0 {
		t, err := s.trapezoid(c, p, i-1, i)
		if err != nil {
			return err
		}
		if err := s.sum.add(c.Env, t); err != nil {
			return err
		}
	}
	s.count++
	return nil
}

func (s *winIntegralState) remove(c *Context, p *winPartition, i int) error {
	x, y, err := s.point(c, p, i)
	if err != nil {
		return err
	}
	if value.IsNaN(x) || value.IsNaN(y) {
		s.nans--
	}
	s.count--
	if s.count > 0 {
		t, err := s.trapezoid(c, p, i, i+1)
		if err != nil {
			return err
		}
		return s.sum.remove(c.Env, t)
	}
	return nil
}

func (s *winIntegralState) result() (any, error) {
	switch {
	case s.count == 0:
		return nil, nil
	case s.nans > 0:
		return math.NaN(), nil
	}
	v, err := s.sum.result()
	if err != nil || s.f.unitMs == 0 {
		return v, err
	}
	return winDivide(v, s.f.unitMs)
}

// winExpMovingAvg is $expMovingAvg: result = input·alpha + previous·(1 - alpha) over the
// partition so far, in decimal arithmetic as mongod computes it; a double unless an input
// was a decimal.
type winExpMovingAvg struct {
	input *expr.Expr
	alpha *apd.Decimal
}

func parseWinExpMovingAvg(d bson.D, sort *winSort, vars []string) (winFunc, error) {
	const shape = "$expMovingAvg sub object must have exactly two fields: An 'input' field, and either an 'N' field or an 'alpha' field"
	sub, ok := d[0].Value.(bson.D)
	if len(d) != 1 || d[0].Key != "$expMovingAvg" || !ok {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$expMovingAvg must have exactly one argument that is an object")
	}
	var inputSpec, nSpec, alphaSpec any
	var hasInput, hasN, hasAlpha bool
	for _, e := range sub {
		switch e.Key {
		case "input":
			inputSpec, hasInput = e.Value, true
		case "N":
			nSpec, hasN = e.Value, true
		case "alpha":
			alphaSpec, hasAlpha = e.Value, true
		}
	}
	if len(sub) != 2 || !hasInput {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, shape)
	}
	if !sort.present {
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "$expMovingAvg requires an explicit 'sortBy'")
	}
	input, err := expr.Compile(inputSpec, vars...)
	if err != nil {
		return nil, err
	}
	f := &winExpMovingAvg{input: input}
	switch {
	case hasN:
		if !value.IsNumber(nSpec) {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "'N' field must be an integer, but found type %s", winTypeName(nSpec))
		}
		fl, _ := value.ToFloat64(nSpec)
		if fl != math.Floor(fl) {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "'N' field must be an integer, but found  N: %s. To use a non-integer, use the 'alpha' argument instead", value.Format(nSpec))
		}
		n := int64(fl)
		if fl >= math.MaxInt64 {
			n = math.MaxInt64
		}
		if n <= 0 {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "'N' must be greater than zero. Got %d", n)
		}
		// alpha = 2 / (N + 1), a decimal division with IEEE's preferred exponent.
		np1 := new(apd.Decimal)
		_, _ = value.DecimalContext.Add(np1, apd.New(n, 0), apd.New(1, 0))
		q, err := value.Divide(value.FromDecimal(apd.New(2, 0)), value.FromDecimal(np1))
		if err != nil {
			return nil, err
		}
		if f.alpha, err = value.ToDecimal(q); err != nil {
			return nil, err
		}
	case hasAlpha:
		if !value.IsNumber(alphaSpec) {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "'alpha' must be a number")
		}
		a := winToDecimal(alphaSpec)
		if a.Cmp(apd.New(0, 0)) <= 0 || a.Cmp(apd.New(1, 0)) >= 0 {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "'alpha' must be between 0 and 1 (exclusive), found alpha: %s", value.Format(alphaSpec))
		}
		f.alpha = a
	default:
		return nil, mongoerr.Newf(mongoerr.FailedToParse, "Got unrecognized field in $expMovingAvg%s", shape)
	}
	return f, nil
}

// winToDecimal converts a number as mongod's coerceToDecimal: doubles keep 15 digits.
func winToDecimal(v any) *apd.Decimal {
	if f, ok := v.(float64); ok {
		return winDecimal15(f)
	}
	d, err := value.ToDecimal(v)
	if err != nil {
		return new(apd.Decimal)
	}
	return d
}

func (f *winExpMovingAvg) eval(c *Context, p *winPartition, out []any) error {
	ctx := value.DecimalContext
	oneMinus := new(apd.Decimal)
	_, _ = ctx.Sub(oneMinus, apd.New(1, 0), f.alpha)
	var cur *apd.Decimal
	isDecimal := false
	for i, d := range p.docs {
		v, err := f.input.Eval(c.Env, d)
		if err != nil {
			return err
		}
		if value.IsNumber(v) {
			if _, ok := v.(bson.Decimal128); ok {
				isDecimal = true
			}
			x := winToDecimal(v)
			if cur == nil {
				cur = x
			} else {
				a, b := new(apd.Decimal), new(apd.Decimal)
				_, _ = ctx.Mul(a, x, f.alpha)
				_, _ = ctx.Mul(b, cur, oneMinus)
				next := new(apd.Decimal)
				_, _ = ctx.Add(next, a, b)
				cur = next
			}
		}
		switch {
		case cur == nil:
			out[i] = nil
		case isDecimal:
			out[i] = value.FromDecimal(cur)
		default:
			fl, _ := cur.Float64()
			out[i] = fl
		}
	}
	return nil
}

// winCovariance is the state of $covariancePop/$covarianceSamp over [x, y] pairs, with
// mongod's online algorithm (running means, summed co-moments) so that removals work.
type winCovariance struct {
	input             *expr.Expr
	samp              bool
	count             int64
	meanX, meanY, cXY *winValueAcc
	env               *expr.Env
}

func newWinCovariance(input *expr.Expr, samp bool) winStateFactory {
	return func(c *Context, _ *winPartition) (winState, bool, error) {
		s := &winCovariance{input: input, samp: samp, env: c.Env}
		if err := s.reset(); err != nil {
			return nil, false, err
		}
		return s, true, nil
	}
}

func (s *winCovariance) reset() error {
	var err error
	s.count = 0
	if s.meanX, err = newWinValueAcc(s.env, "$avg"); err != nil {
		return err
	}
	if s.meanY, err = newWinValueAcc(s.env, "$avg"); err != nil {
		return err
	}
	s.cXY, err = newWinValueAcc(s.env, "$sum")
	return err
}

// pair returns document i's [x, y] when it is a pair of numbers.
func (s *winCovariance) pair(c *Context, p *winPartition, i int) (x, y any, ok bool, err error) {
	v, err := s.input.Eval(c.Env, p.docs[i])
	if err != nil {
		return nil, nil, false, err
	}
	a, isArr := v.(bson.A)
	if !isArr || len(a) != 2 || !value.IsNumber(a[0]) || !value.IsNumber(a[1]) {
		return nil, nil, false, nil
	}
	return a[0], a[1], true, nil
}

func winIsInf(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsInf(x, 0)
	case bson.Decimal128:
		return x.IsInf() != 0
	}
	return false
}

// winNonFinite folds a pair holding NaN or an infinity into the one value mongod adds to
// the co-moment sum instead: NaN, or an infinity of the pair's sign.
func winNonFinite(x, y any) any {
	pos, neg, nan := 0, 0, 0
	isDecimal := false
	for _, v := range []any{x, y} {
		switch {
		case value.IsNaN(v):
			nan++
		case winIsDecimal(v):
			if d := v.(bson.Decimal128); d.IsInf() != 0 {
				if d.IsInf() < 0 {
					neg++
				} else {
					pos++
				}
			}
			isDecimal = true
		default:
			f, _ := value.ToFloat64(v)
			if math.IsInf(f, 1) {
				pos++
			} else if math.IsInf(f, -1) {
				neg++
			}
		}
	}
	special := func(form apd.Form, negative bool) any {
		if isDecimal {
			return value.FromDecimal(&apd.Decimal{Form: form, Negative: negative})
		}
		if form == apd.NaN {
			return math.NaN()
		}
		if negative {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	switch {
	case nan > 0 || pos*neg > 0:
		return special(apd.NaN, false)
	case pos > 0:
		return special(apd.Infinite, false)
	}
	return special(apd.Infinite, true)
}

func winIsDecimal(v any) bool {
	_, ok := v.(bson.Decimal128)
	return ok
}

func (s *winCovariance) add(c *Context, p *winPartition, i int) error {
	x, y, ok, err := s.pair(c, p, i)
	if err != nil || !ok {
		return err
	}
	if value.IsNaN(x) || value.IsNaN(y) || winIsInf(x) || winIsInf(y) {
		return s.cXY.add(c.Env, winNonFinite(x, y))
	}
	s.count++
	mx, err := s.meanX.result()
	if err != nil {
		return err
	}
	dx, err := winSubtract(x, mx)
	if err != nil {
		return err
	}
	if err := s.meanX.add(c.Env, x); err != nil {
		return err
	}
	if err := s.meanY.add(c.Env, y); err != nil {
		return err
	}
	my, err := s.meanY.result()
	if err != nil {
		return err
	}
	dy, err := winSubtract(y, my)
	if err != nil {
		return err
	}
	if dx == nil || dy == nil {
		return nil // the first pair: no co-moment yet
	}
	prod, err := value.Multiply(dx, dy)
	if err != nil {
		return err
	}
	return s.cXY.add(c.Env, prod)
}

func (s *winCovariance) remove(c *Context, p *winPartition, i int) error {
	x, y, ok, err := s.pair(c, p, i)
	if err != nil || !ok {
		return err
	}
	if value.IsNaN(x) || value.IsNaN(y) || winIsInf(x) || winIsInf(y) {
		return s.cXY.remove(c.Env, winNonFinite(x, y))
	}
	s.count--
	if s.count == 0 {
		return s.reset()
	}
	if err := s.meanX.remove(c.Env, x); err != nil {
		return err
	}
	mx, err := s.meanX.result()
	if err != nil {
		return err
	}
	dx, err := winSubtract(x, mx)
	if err != nil {
		return err
	}
	my, err := s.meanY.result()
	if err != nil {
		return err
	}
	dy, err := winSubtract(y, my)
	if err != nil {
		return err
	}
	if dx != nil && dy != nil {
		prod, err := value.Multiply(dx, dy)
		if err != nil {
			return err
		}
		if err := s.cXY.remove(c.Env, prod); err != nil {
			return err
		}
	}
	return s.meanY.remove(c.Env, y)
}

func (s *winCovariance) result() (any, error) {
	if s.count == 1 && !s.samp {
		return 0.0, nil
	}
	adjusted := s.count
	if s.samp {
		adjusted--
	}
	if adjusted <= 0 {
		return nil, nil
	}
	out, err := s.cXY.result()
	if err != nil {
		return nil, err
	}
	switch x := out.(type) {
	case bson.Decimal128:
		return value.Divide(x, float64(adjusted))
	default:
		if f, ok := value.ToFloat64(x); ok {
			return f / float64(adjusted), nil
		}
	}
	return out, nil
}
