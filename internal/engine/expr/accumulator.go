package expr

import (
	"slices"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// AccumulatorContext tells CompileAccumulator where an accumulator is used, since MongoDB
// allows some operators only in $group (and the stages built on it) or only in windows.
type AccumulatorContext int

// Places an accumulator can appear.
const (
	// InGroup is an accumulator of a $group stage.
	InGroup AccumulatorContext = iota
	// InWindow is a window function of a $setWindowFields stage.
	InWindow
	// InBucket is an output accumulator of a $bucket or $bucketAuto stage.
	InBucket
)

// accKind identifies an accumulator's implementation.
type accKind uint8

const (
	accSum accKind = iota
	accAvg
	accMin
	accMax
	accFirst
	accLast
	accPush
	accAddToSet
	accCount
	accStdDevPop
	accStdDevSamp
	accMergeObjects
	accTop
	accBottom
	accTopN
	accBottomN
	accFirstN
	accLastN
	accMaxN
	accMinN
	accMedian
	accPercentile
	accConcatArrays
	accSetUnion
	accJavaScript // $accumulator: needs server-side JavaScript
	accWindowOnly // implemented by the $setWindowFields stage itself
)

// accInfo says what an accumulator is and where MongoDB accepts it.
type accInfo struct {
	kind   accKind
	group  bool // $group, $bucket, $bucketAuto
	window bool // $setWindowFields
}

var accInfos = map[string]accInfo{
	"$sum":            {accSum, true, true},
	"$avg":            {accAvg, true, true},
	"$min":            {accMin, true, true},
	"$max":            {accMax, true, true},
	"$first":          {accFirst, true, true},
	"$last":           {accLast, true, true},
	"$push":           {accPush, true, true},
	"$addToSet":       {accAddToSet, true, true},
	"$count":          {accCount, true, true},
	"$stdDevPop":      {accStdDevPop, true, true},
	"$stdDevSamp":     {accStdDevSamp, true, true},
	"$mergeObjects":   {accMergeObjects, true, false},
	"$top":            {accTop, true, true},
	"$bottom":         {accBottom, true, true},
	"$topN":           {accTopN, true, true},
	"$bottomN":        {accBottomN, true, true},
	"$firstN":         {accFirstN, true, true},
	"$lastN":          {accLastN, true, true},
	"$maxN":           {accMaxN, true, true},
	"$minN":           {accMinN, true, true},
	"$median":         {accMedian, true, true},
	"$percentile":     {accPercentile, true, true},
	"$concatArrays":   {accConcatArrays, true, true}, // MongoDB 8.1+
	"$setUnion":       {accSetUnion, true, true},     // MongoDB 8.1+
	"$accumulator":    {accJavaScript, true, false},
	"$rank":           {accWindowOnly, false, true},
	"$denseRank":      {accWindowOnly, false, true},
	"$documentNumber": {accWindowOnly, false, true},
	"$shift":          {accWindowOnly, false, true},
	"$derivative":     {accWindowOnly, false, true},
	"$integral":       {accWindowOnly, false, true},
	"$expMovingAvg":   {accWindowOnly, false, true},
	"$covariancePop":  {accWindowOnly, false, true},
	"$covarianceSamp": {accWindowOnly, false, true},
	"$locf":           {accWindowOnly, false, true},
	"$linearFill":     {accWindowOnly, false, true},
}

// IsAccumulator reports whether op names an accumulator usable in where. In windows this
// includes the window-only functions ($rank, $shift, …) that the $setWindowFields stage
// implements itself.
func IsAccumulator(op string, where AccumulatorContext) bool {
	info, ok := accInfos[op]
	if !ok {
		return false
	}
	if where == InWindow {
		return info.window
	}
	return info.group
}

// Accumulator is a compiled accumulator such as {$sum: "$qty"}. Immutable, safe for
// concurrent use.
type Accumulator struct {
	op    string
	kind  accKind
	where AccumulatorContext
	// arg is evaluated on every document: the argument, or the input/output expression.
	arg *Expr
	// n is the size expression of the N variants; nSpec is it as written (for messages).
	n     *Expr
	nSpec any
	// sortBy orders the documents of $top, $bottom, $topN and $bottomN, as $sort would.
	sortBy *sorter.Sorter
	// ps are the percentiles of $percentile ({0.5} for $median) when known at compile
	// time; otherwise pExpr yields them at run time (a let variable, say).
	ps    []float64
	pExpr *Expr
}

// State folds the documents of one group.
type State interface {
	// Add evaluates the argument on doc and folds it in.
	Add(env *Env, doc bson.D) error
	// Result returns the accumulated value (may be called more than once). It is never
	// value.Missing: what MongoDB's $group outputs as null is null here. The result may
	// share arrays and documents with the added documents; callers must not modify it.
	Result() (any, error)
}

// RemovableState is implemented by states that can also drop a previously added document, which lets
// sliding windows run in O(n) instead of O(n·w). Others are recomputed per window by the caller.
type RemovableState interface {
	State
	// Remove drops doc, which must be the oldest document added and not yet removed.
	Remove(env *Env, doc bson.D) error
}

// Op returns the accumulator's operator name, such as "$sum".
func (a *Accumulator) Op() string { return a.op }

// CompileAccumulator parses one accumulator: op is its name with "$" ("$sum"), arg its argument as written.
// where tells where it is used, since MongoDB allows some only in $group or only in windows. userVars
// names the user variables (without "$$") the expressions may reference, as for Compile.
//
// Errors are MongoDB's: 15952 for an unknown $group operator, 40237 for an array argument in
// $group, FailedToParse for an unknown window function, the operator's own codes for a
// malformed specification, and NotImplemented for $accumulator (no JavaScript) and for
// the window-only functions ($rank, $shift, …), which the $setWindowFields stage computes.
func CompileAccumulator(op string, arg any, where AccumulatorContext, userVars ...string) (*Accumulator, error) {
	info, known := accInfos[op]
	if where == InWindow {
		if !known || !info.window {
			return nil, mongoerr.Newf(mongoerr.FailedToParse, "Unrecognized window function, %s", op)
		}
	} else {
		// mongod rejects an array argument before it looks the name up.
		if _, isArray := arg.(bson.A); isArray {
			return nil, mongoerr.Newf(40237, "The %s accumulator is a unary operator", op)
		}
		if !known || !info.group {
			return nil, mongoerr.Newf(15952, "unknown group operator '%s'", op)
		}
	}
	a := &Accumulator{op: op, kind: info.kind, where: where}
	var err error
	switch info.kind {
	case accWindowOnly:
		return nil, mongoerr.Newf(mongoerr.NotImplemented,
			"%s is a window function computed by the $setWindowFields stage, not an accumulator", op)
	case accJavaScript:
		return nil, mongoerr.Newf(mongoerr.NotImplemented,
			"%s is not supported: this server does not run JavaScript", op)
	case accCount:
		if d, ok := arg.(bson.D); !ok || len(d) != 0 {
			return nil, mongoerr.Newf(mongoerr.TypeMismatch, "$count takes no arguments, i.e. $count:{}")
		}
		a.arg = &Expr{root: literal{int32(1)}}
	case accFirstN, accLastN, accMaxN, accMinN:
		err = a.parseNArgs(arg, userVars)
	case accTop, accBottom, accTopN, accBottomN:
		err = a.parseTopBottom(arg, userVars)
	case accMedian, accPercentile:
		err = a.parsePercentile(arg, false, userVars)
	default:
		a.arg, err = Compile(arg, userVars...)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// NewState returns an empty state with $group semantics (also MongoDB's semantics for
// windows that only grow, such as ["unbounded", "current"]). The n of the N variants and
// a p of $percentile known only at run time are evaluated against an empty document when
// the first document is added (by Result if none is), since the state has no group key;
// a $group stage should use NewGroupState instead. Errors such as an invalid n are
// reported by Add and Result.
func (a *Accumulator) NewState() State {
	st, _ := a.newState(nil, nil, false) // nothing is evaluated yet, so nothing fails
	return st
}

// NewGroupState returns an empty state for the group whose key is id. As in MongoDB, an
// expression n of $firstN, $topN, … is evaluated once per group with the group key as
// $$ROOT when the key is a document (and an empty document otherwise), so n may depend
// on the key. $bucketAuto, which has no key per bucket, passes nil.
func (a *Accumulator) NewGroupState(env *Env, id any) (State, error) {
	root, _ := id.(bson.D)
	if root == nil {
		root = bson.D{}
	}
	return a.newState(env, root, true)
}

// NewRemovableState returns an empty state with the semantics MongoDB gives the window
// function when documents also leave the window (windows with a bounded lower end), or
// false when MongoDB has no removable form of the accumulator and the caller must
// recompute each window with NewState. The n of the N variants (which must evaluate to a
// number without a document, as in MongoDB) and a run-time p are evaluated now with env.
func (a *Accumulator) NewRemovableState(env *Env) (RemovableState, bool, error) {
	return a.newRemovable(env)
}

// newState builds a group-semantics state. With resolve set, n and p are resolved now
// against root; otherwise on the first Add.
func (a *Accumulator) newState(env *Env, root bson.D, resolve bool) (State, error) {
	switch a.kind {
	case accSum, accCount:
		if a.where != InWindow {
			if c, ok := a.arg.IsConstant(); ok {
				switch c.(type) {
				case int32, int64, float64:
					return &accFoldState{arg: a.arg, f: newAccConstSumFolder(c)}, nil
				}
			}
		}
		return &accFoldState{arg: a.arg, f: &accSumFolder{}}, nil
	case accAvg:
		return &accFoldState{arg: a.arg, f: &accAvgFolder{}}, nil
	case accMin:
		return &accFoldState{arg: a.arg, f: &accMinMaxFolder{sense: 1}}, nil
	case accMax:
		return &accFoldState{arg: a.arg, f: &accMinMaxFolder{sense: -1}}, nil
	case accFirst:
		return &accFoldState{arg: a.arg, f: &accFirstFolder{}}, nil
	case accLast:
		return &accFoldState{arg: a.arg, f: &accLastFolder{}}, nil
	case accPush:
		return &accFoldState{arg: a.arg, f: &accPushFolder{out: bson.A{}}}, nil
	case accAddToSet:
		return &accFoldState{arg: a.arg, f: newAccSetFolder()}, nil
	case accStdDevPop:
		return &accFoldState{arg: a.arg, f: &accStdDevFolder{}}, nil
	case accStdDevSamp:
		return &accFoldState{arg: a.arg, f: &accStdDevFolder{samp: true}}, nil
	case accMergeObjects:
		return &accFoldState{arg: a.arg, f: &accMergeFolder{}}, nil
	case accConcatArrays:
		return &accFoldState{arg: a.arg, f: &accConcatFolder{op: a.op, out: bson.A{}}}, nil
	case accSetUnion:
		return &accFoldState{arg: a.arg, f: &accConcatFolder{op: a.op, set: newAccSetFolder()}}, nil
	case accMedian, accPercentile:
		st := &accPercentileState{acc: a, ps: a.ps, median: a.kind == accMedian}
		if resolve && st.ps == nil {
			if err := st.resolve(env, root); err != nil {
				return nil, err
			}
		}
		return st, nil
	}
	// The N variants and $top/$bottom.
	st := &accNState{acc: a, removable: false}
	if resolve {
		if err := st.resolve(env, root); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// newRemovable builds a window-semantics removable state.
func (a *Accumulator) newRemovable(env *Env) (RemovableState, bool, error) {
	switch a.kind {
	case accSum, accCount:
		return &accRemovableFoldState{arg: a.arg, f: &accRemovableSum{}}, true, nil
	case accAvg:
		return &accRemovableFoldState{arg: a.arg, f: &accRemovableSum{avg: true}}, true, nil
	case accMin:
		return &accRemovableFoldState{arg: a.arg, f: &accSortedFolder{mode: accSortedMin}}, true, nil
	case accMax:
		return &accRemovableFoldState{arg: a.arg, f: &accSortedFolder{mode: accSortedMax}}, true, nil
	case accAddToSet:
		return &accRemovableFoldState{arg: a.arg, f: &accSortedFolder{mode: accSortedSet}}, true, nil
	case accFirst, accLast:
		return &accRemovableFoldState{arg: a.arg, f: &accQueueFolder{last: a.kind == accLast}}, true, nil
	case accPush:
		return &accRemovableFoldState{arg: a.arg, f: &accQueueFolder{push: true}}, true, nil
	case accStdDevPop:
		return &accRemovableFoldState{arg: a.arg, f: &accRemovableStdDev{}}, true, nil
	case accStdDevSamp:
		return &accRemovableFoldState{arg: a.arg, f: &accRemovableStdDev{samp: true}}, true, nil
	case accMedian, accPercentile:
		st := &accRemovablePercentileState{accPercentileState{acc: a, ps: a.ps, median: a.kind == accMedian, removable: true}}
		if st.ps == nil {
			if err := st.resolve(env, bson.D{}); err != nil {
				return nil, false, err
			}
		}
		return st, true, nil
	case accFirstN, accLastN, accMaxN, accMinN, accTop, accBottom, accTopN, accBottomN:
		st := &accRemovableNState{accNState{acc: a, removable: true}}
		if err := st.resolve(env, bson.D{}); err != nil {
			return nil, false, err
		}
		return st, true, nil
	}
	return nil, false, nil
}

// accFolder folds evaluated argument values; the states wrap it with the evaluation.
type accFolder interface {
	fold(v any) error
	result() (any, error)
}

// accUnfolder is a folder that can also drop the oldest value it folded.
type accUnfolder interface {
	accFolder
	unfold(v any) error
}

// accFoldState evaluates arg on each document and folds the value.
type accFoldState struct {
	arg *Expr
	f   accFolder
}

func (s *accFoldState) Add(env *Env, doc bson.D) error {
	v, err := s.arg.Eval(env, doc)
	if err != nil {
		return err
	}
	return s.f.fold(v)
}

func (s *accFoldState) Result() (any, error) { return s.f.result() }

// accRemovableFoldState is accFoldState over an accUnfolder.
type accRemovableFoldState struct {
	arg *Expr
	f   accUnfolder
}

func (s *accRemovableFoldState) Add(env *Env, doc bson.D) error {
	v, err := s.arg.Eval(env, doc)
	if err != nil {
		return err
	}
	return s.f.fold(v)
}

func (s *accRemovableFoldState) Remove(env *Env, doc bson.D) error {
	v, err := s.arg.Eval(env, doc)
	if err != nil {
		return err
	}
	return s.f.unfold(v)
}

func (s *accRemovableFoldState) Result() (any, error) { return s.f.result() }

// accNullIfMissing turns value.Missing into null, as $group does with its outputs.
func accNullIfMissing(v any) any {
	if value.IsMissing(v) {
		return nil
	}
	return v
}

// Accumulators lists every accumulator name, including the window-only functions, sorted.
func Accumulators() []string {
	names := make([]string, 0, len(accInfos))
	for n := range accInfos {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
