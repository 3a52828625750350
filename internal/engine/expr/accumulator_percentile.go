package expr

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// accPercentileSpec is a parsed {input, p, method} of $percentile or {input, method} of
// $median; pSpec is p as written (nil for $median).
type accPercentileSpec struct {
	input any
	pSpec any
}

// accParsePercentile parses the specification like MongoDB's IDL parser does: fields in
// order, then the required ones. expression selects the error codes of the expression
// form.
func accParsePercentile(op string, arg any, expression bool) (*accPercentileSpec, error) {
	median := op == "$median"
	d, ok := arg.(bson.D)
	if !ok {
		code := map[[2]bool]int32{{false, false}: 7429703, {true, false}: 7436100,
			{false, true}: 7436200, {true, true}: 7436201}[[2]bool{median, expression}]
		return nil, mongoerr.Newf(code, "specification must be an object; found %s", accSpecPrefix(op, arg))
	}
	var spec accPercentileSpec
	var pSpec any
	var haveInput, haveP, haveMethod bool
	for _, e := range d {
		switch {
		case e.Key == "input":
			spec.input, haveInput = e.Value, true
		case e.Key == "p" && !median:
			pSpec, haveP = e.Value, true
		case e.Key == "method":
			m, ok := e.Value.(string)
			if !ok {
				return nil, mongoerr.Newf(mongoerr.TypeMismatch,
					"BSON field '%s.method' is the wrong type '%s', expected type 'string'", op, value.TypeName(e.Value))
			}
			if m != "approximate" {
				return nil, mongoerr.Newf(mongoerr.BadValue, "Currently only 'approximate' can be used as percentile 'method'.")
			}
			haveMethod = true
		default:
			return nil, mongoerr.Newf(40415, "BSON field '%s.%s' is an unknown field.", op, e.Key)
		}
	}
	for _, f := range []struct {
		name string
		have bool
	}{{"input", haveInput}, {"p", haveP || median}, {"method", haveMethod}} {
		if !f.have {
			return nil, mongoerr.Newf(40414, "BSON field '%s.%s' is missing but a required field", op, f.name)
		}
	}
	if !median && accRefersToFields(pSpec) {
		return nil, mongoerr.Newf(7750300,
			"The $percentile 'p' field must be an array of constant values, but found value: %s.", value.Format(pSpec))
	}
	spec.pSpec = pSpec
	return &spec, nil
}

// accRefersToFields reports whether an expression spec reads the document (a field
// path, $$ROOT or $$CURRENT), which $percentile's p may not.
func accRefersToFields(spec any) bool {
	switch x := spec.(type) {
	case string:
		if !strings.HasPrefix(x, "$") {
			return false
		}
		if !strings.HasPrefix(x, "$$") {
			return true
		}
		name, _, _ := strings.Cut(x[2:], ".")
		return name == "ROOT" || name == "CURRENT"
	case bson.A:
		return slices.ContainsFunc(x, accRefersToFields)
	case bson.D:
		if len(x) == 1 && x[0].Key == "$literal" {
			return false
		}
		for _, e := range x {
			if accRefersToFields(e.Value) {
				return true
			}
		}
	}
	return false
}

// accParsePs checks an evaluated p: a non-empty array of numbers in [0, 1].
func accParsePs(v any) ([]float64, error) {
	const msg = "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: "
	arr, ok := v.(bson.A)
	if !ok || len(arr) == 0 {
		return nil, mongoerr.Newf(7750301, "%s%s", msg, value.Format(accNullIfMissing(v)))
	}
	ps := make([]float64, len(arr))
	for i, pv := range arr {
		if !value.IsNumber(pv) {
			return nil, mongoerr.Newf(7750302, "%s%s", msg, value.Format(pv))
		}
		p, _ := value.ToFloat64(pv)
		if !(p >= 0 && p <= 1) { // also rejects NaN
			return nil, mongoerr.Newf(7750303, "%s%s", msg, strconv.FormatFloat(p, 'g', -1, 64))
		}
		ps[i] = p
	}
	return ps, nil
}

// parsePercentile fills a $median or $percentile accumulator.
func (a *Accumulator) parsePercentile(arg any, expression bool, userVars []string) error {
	spec, err := accParsePercentile(a.op, arg, expression)
	if err != nil {
		return err
	}
	if a.arg, err = Compile(spec.input, userVars...); err != nil {
		return err
	}
	if a.kind == accMedian {
		a.ps = []float64{0.5}
		return nil
	}
	pe, err := Compile(spec.pSpec, userVars...)
	if err != nil {
		return err
	}
	if c, ok := pe.IsConstant(); ok {
		a.ps, err = accParsePs(c)
		return err
	}
	// Constant for the command but not known yet (a let variable, say).
	a.pExpr = pe
	return nil
}

// accPercentileRank is the 0-based rank MongoDB reports for percentile p of n sorted
// values: the lowest rank with at least ceil(p·n) values at or below it, so the result
// is always one of the values (no interpolation).
func accPercentileRank(n int, p float64) int {
	if p >= 1 {
		return n - 1
	}
	return max(0, int(math.Ceil(float64(n)*p))-1)
}

// accPercentiles computes ps over sorted; it returns the result of $median or
// $percentile (nulls when there is no value).
func accPercentiles(sorted []float64, ps []float64, median bool) any {
	if median {
		if len(sorted) == 0 {
			return nil
		}
		return sorted[accPercentileRank(len(sorted), 0.5)]
	}
	out := make(bson.A, len(ps))
	if len(sorted) > 0 {
		for i, p := range ps {
			out[i] = sorted[accPercentileRank(len(sorted), p)]
		}
	}
	return out
}

// accPercentileState is $percentile/$median. For small inputs MongoDB's "approximate"
// method (a t-digest whose centroids are still single values) returns exactly the value
// at the rank above; this computes that exactly for every input size. Non-numbers and
// NaN are ignored; results are doubles.
type accPercentileState struct {
	acc               *Accumulator
	ps                []float64 // nil until resolved, for a p known only at run time
	median, removable bool
	vals              []float64
	sorted            bool
}

func (s *accPercentileState) resolve(env *Env, root bson.D) error {
	v, err := s.acc.pExpr.Eval(env, root)
	if err != nil {
		return err
	}
	s.ps, err = accParsePs(v)
	return err
}

func (s *accPercentileState) input(env *Env, doc bson.D) (float64, bool, error) {
	v, err := s.acc.arg.Eval(env, doc)
	if err != nil || !value.IsNumber(v) {
		return 0, false, err
	}
	f, _ := value.ToFloat64(v)
	return f, !math.IsNaN(f), nil
}

func (s *accPercentileState) Add(env *Env, doc bson.D) error {
	if s.ps == nil {
		if err := s.resolve(env, bson.D{}); err != nil {
			return err
		}
	}
	f, ok, err := s.input(env, doc)
	if !ok {
		return err
	}
	if s.removable {
		i, _ := slices.BinarySearch(s.vals, f)
		s.vals = slices.Insert(s.vals, i, f)
		return nil
	}
	s.vals = append(s.vals, f)
	s.sorted = false
	return nil
}

func (s *accPercentileState) Result() (any, error) {
	if s.ps == nil {
		if err := s.resolve(nil, bson.D{}); err != nil {
			return nil, err
		}
	}
	if !s.removable && !s.sorted {
		slices.Sort(s.vals)
		s.sorted = true
	}
	return accPercentiles(s.vals, s.ps, s.median), nil
}

// accRemovablePercentileState is the window form, which keeps the values sorted.
type accRemovablePercentileState struct{ accPercentileState }

func (s *accRemovablePercentileState) Remove(env *Env, doc bson.D) error {
	f, ok, err := s.input(env, doc)
	if !ok {
		return err
	}
	if i, found := slices.BinarySearch(s.vals, f); found {
		s.vals = slices.Delete(s.vals, i, i+1)
	}
	return nil
}
