package expr

import (
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// accSpecPrefix renders a non-object argument the way mongod prints the element in
// "specification must be an object; found …" messages.
func accSpecPrefix(op string, arg any) string { return op + ": " + value.Format(arg) }

// parseNArgs parses {input, n} of $firstN, $lastN, $maxN and $minN.
func (a *Accumulator) parseNArgs(arg any, userVars []string) error {
	input, n, nSpec, err := accParseNArgs(a.op, arg, func(spec any) (*Expr, error) {
		return Compile(spec, userVars...)
	})
	if err != nil {
		return err
	}
	a.arg, a.n, a.nSpec = input, n, nSpec
	return nil
}

// accParseNArgs checks the {input, n} object and compiles both with compile.
func accParseNArgs[T any](op string, arg any, compile func(any) (T, error)) (input, n T, nSpec any, err error) {
	d, ok := arg.(bson.D)
	if !ok {
		code := int32(5787900) // $minN, $maxN
		if op == "$firstN" || op == "$lastN" {
			code = 5787801
		}
		return input, n, nil, mongoerr.Newf(code, "specification must be an object; found %s", accSpecPrefix(op, arg))
	}
	var haveInput, haveN bool
	for _, e := range d {
		switch e.Key {
		case "input":
			if input, err = compile(e.Value); err != nil {
				return input, n, nil, err
			}
			haveInput = true
		case "n":
			if n, err = compile(e.Value); err != nil {
				return input, n, nil, err
			}
			nSpec, haveN = e.Value, true
		default:
			return input, n, nil, mongoerr.Newf(5787901, "Unknown argument for 'n' operator: %s", e.Key)
		}
	}
	if !haveN {
		return input, n, nil, mongoerr.Newf(5787906, "Missing value for 'n'")
	}
	if !haveInput {
		return input, n, nil, mongoerr.Newf(5787907, "Missing value for 'input'")
	}
	return input, n, nSpec, nil
}

// parseTopBottom parses {output, sortBy} of $top/$bottom and {output, sortBy, n} of
// $topN/$bottomN.
func (a *Accumulator) parseTopBottom(arg any, userVars []string) error {
	d, ok := arg.(bson.D)
	if !ok {
		return mongoerr.Newf(5788001, "specification must be an object; found %s", accSpecPrefix(a.op, arg))
	}
	single := a.kind == accTop || a.kind == accBottom
	var output any
	var haveOutput bool
	var sortBy bson.D
	for _, e := range d {
		switch {
		case e.Key == "n" && !single:
			n, err := Compile(e.Value, userVars...)
			if err != nil {
				return err
			}
			a.n, a.nSpec = n, e.Value
		case e.Key == "output":
			output, haveOutput = e.Value, true
		case e.Key == "sortBy":
			s, ok := e.Value.(bson.D)
			if !ok {
				return mongoerr.Newf(10065, "invalid parameter: expected an object (sortBy)")
			}
			sortBy = s
		default:
			return mongoerr.Newf(5788002, "Unknown argument to %s '%s'", a.op, e.Key)
		}
	}
	if !single && a.n == nil {
		return mongoerr.Newf(5788003, "Missing value for 'n'")
	}
	if !haveOutput {
		return mongoerr.Newf(5788004, "Missing value for 'output'")
	}
	if sortBy == nil {
		return mongoerr.Newf(5788005, "Missing value for 'sortBy'")
	}
	var err error
	if a.sortBy, err = sorter.Compile(sortBy); err != nil {
		return err
	}
	a.arg, err = Compile(output, userVars...)
	return err
}

// accValidateN checks n as MongoDB does: a number with an integral value, above zero.
func accValidateN(v any) (int64, error) {
	if !value.IsNumber(v) {
		shown := "missing"
		if !value.IsMissing(v) {
			shown = value.Format(v)
		}
		return 0, mongoerr.Newf(5787902, "Value for 'n' must be of integral type, but found %s", shown)
	}
	n, ok := value.ToInt64(v)
	if !ok {
		return 0, mongoerr.Newf(5787903, "Value for 'n' must be of integral type, but found %s", value.Format(v))
	}
	if n <= 0 {
		return 0, mongoerr.Newf(5787908, "'n' must be greater than 0, found %d", n)
	}
	return n, nil
}

// accTopEntry is one document kept by $top/$bottom: its sort key and output value.
type accTopEntry struct {
	key sorter.Key
	out any
}

// accNState is the $group state of $firstN, $lastN, $minN, $maxN, $top, $bottom, $topN
// and $bottomN. removable marks the window form, which keeps every value of the window
// and trims to n when reporting.
type accNState struct {
	acc       *Accumulator
	removable bool
	n         int64 // 0 until resolved
	vals      []any // $firstN/$lastN in arrival order (from head), $minN/$maxN ascending
	head      int   // consumed prefix of vals (lastN and removable queues)
	top       []accTopEntry
}

// resolve evaluates n against root.
func (s *accNState) resolve(env *Env, root bson.D) error {
	a := s.acc
	if a.n == nil { // $top, $bottom
		s.n = 1
		return nil
	}
	v, err := a.n.Eval(env, root)
	if err != nil {
		return err
	}
	if a.where == InWindow && !value.IsNumber(v) {
		return mongoerr.Newf(5788501, "Expression for 'n' %s must evaluate to a numeric constant when used in $setWindowFields",
			value.Format(a.nSpec))
	}
	s.n, err = accValidateN(v)
	return err
}

func (s *accNState) Add(env *Env, doc bson.D) error {
	if s.n == 0 {
		if err := s.resolve(env, bson.D{}); err != nil {
			return err
		}
	}
	a := s.acc
	v, err := a.arg.Eval(env, doc)
	if err != nil {
		return err
	}
	switch a.kind {
	case accFirstN:
		if s.removable || int64(len(s.vals)) < s.n {
			s.vals = append(s.vals, accNullIfMissing(v))
		}
	case accLastN:
		s.vals = append(s.vals, accNullIfMissing(v))
		if !s.removable && int64(len(s.vals)-s.head) > s.n {
			s.drop()
		}
	case accMinN, accMaxN:
		s.addMinMax(v)
	default:
		key, err := a.sortBy.Key(doc)
		if err != nil {
			return err
		}
		s.addTop(accTopEntry{key: key, out: accNullIfMissing(v)})
	}
	return nil
}

// drop consumes the oldest queued value.
func (s *accNState) drop() {
	s.vals[s.head] = nil
	s.head++
	if s.head > 32 && s.head*2 > len(s.vals) {
		s.vals = append(s.vals[:0], s.vals[s.head:]...)
		s.head = 0
	}
}

func (s *accNState) addMinMax(v any) {
	limit := s.n
	if s.removable {
		limit = 0
	}
	s.vals = accInsertMinMax(s.vals, v, limit, s.acc.kind == accMinN)
}

// accInsertMinMax adds v to vals (ascending) for $minN/$maxN, ignoring null, undefined
// and missing. With limit > 0 and vals full, v replaces the worst kept value only if it
// is strictly better, as mongod's bounded multiset does.
func accInsertMinMax(vals []any, v any, limit int64, isMin bool) []any {
	if value.IsNullish(v) {
		return vals
	}
	if limit > 0 && int64(len(vals)) == limit {
		if isMin {
			if value.Compare(vals[len(vals)-1], v) <= 0 {
				return vals
			}
			vals = vals[:len(vals)-1]
		} else {
			if value.Compare(vals[0], v) >= 0 {
				return vals
			}
			vals = slices.Delete(vals, 0, 1)
		}
	}
	return slices.Insert(vals, accUpperBound(vals, v), v)
}

// accMinMaxNResult returns the first n of ascending vals for $minN, or the last n in
// descending order for $maxN.
func accMinMaxNResult(vals []any, n int, isMin bool) bson.A {
	if isMin {
		return append(bson.A{}, vals[:min(n, len(vals))]...)
	}
	out := make(bson.A, 0, min(n, len(vals)))
	for i := len(vals) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, vals[i])
	}
	return out
}

func (s *accNState) addTop(e accTopEntry) {
	cmp := s.acc.sortBy.CompareKeys
	if !s.removable && int64(len(s.top)) == s.n {
		// Full: on ties the entry seen first stays.
		if s.acc.kind == accTop || s.acc.kind == accTopN {
			if cmp(s.top[len(s.top)-1].key, e.key) <= 0 {
				return
			}
			s.top = s.top[:len(s.top)-1]
		} else {
			if cmp(e.key, s.top[0].key) <= 0 {
				return
			}
			s.top = slices.Delete(s.top, 0, 1)
		}
	}
	// Insert after the entries with an equal key, so equal keys keep arrival order.
	lo, hi := 0, len(s.top)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmp(s.top[m].key, e.key) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	s.top = slices.Insert(s.top, lo, e)
}

func (s *accNState) Result() (any, error) {
	n := int(min(s.n, int64(^uint(0)>>1)))
	switch s.acc.kind {
	case accFirstN, accLastN:
		live := s.vals[s.head:]
		if len(live) > n {
			if s.acc.kind == accFirstN {
				live = live[:n]
			} else {
				live = live[len(live)-n:]
			}
		}
		return append(bson.A{}, live...), nil
	case accMinN, accMaxN:
		return accMinMaxNResult(s.vals, n, s.acc.kind == accMinN), nil
	}
	kept := s.top
	if len(kept) > n {
		if s.acc.kind == accTop || s.acc.kind == accTopN {
			kept = kept[:n]
		} else {
			kept = kept[len(kept)-n:]
		}
	}
	if s.acc.kind == accTop || s.acc.kind == accBottom {
		if len(kept) == 0 {
			return nil, nil // only an empty window gets here
		}
		return kept[0].out, nil
	}
	out := make(bson.A, len(kept))
	for i, e := range kept {
		out[i] = e.out
	}
	return out, nil
}

// accRemovableNState is the window form of accNState.
type accRemovableNState struct{ accNState }

func (s *accRemovableNState) Remove(env *Env, doc bson.D) error {
	a := s.acc
	v, err := a.arg.Eval(env, doc)
	if err != nil {
		return err
	}
	switch a.kind {
	case accFirstN, accLastN:
		if s.head < len(s.vals) {
			s.drop()
		}
	case accMinN, accMaxN:
		if value.IsNullish(v) {
			return nil
		}
		i := accLowerBound(s.vals, v)
		if i < len(s.vals) && value.Equal(s.vals[i], v) {
			s.vals = slices.Delete(s.vals, i, i+1)
		}
	default:
		key, err := a.sortBy.Key(doc)
		if err != nil {
			return err
		}
		// The oldest entry with an equal key is the first one not below it.
		lo, hi := 0, len(s.top)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if a.sortBy.CompareKeys(s.top[m].key, key) < 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(s.top) && a.sortBy.CompareKeys(s.top[lo].key, key) == 0 {
			s.top = slices.Delete(s.top, lo, lo+1)
		}
	}
	return nil
}
