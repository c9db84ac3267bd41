package simulator

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// profile is how one agency works: medians of log-normal times to take and to resolve, their spread,
// and the shares of appeals it rejects ("не наше") and of its appeals the curators move elsewhere.
type profile struct {
	takeMedian    time.Duration
	resolveMedian time.Duration
	sigma         float64
	rejectShare   float64
	reassignShare float64
	late          bool // routinely misses the 8 hours
}

// seeded returns a generator fixed by the run's seed and the given names, so every decision about an
// appeal or agency is the same for a seed whatever order the executors meet them in.
func seeded(seed uint64, parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	x := h.Sum64()
	return rand.New(rand.NewPCG(seed^x, x*0x9e3779b97f4a7c15+seed))
}

// lateAgencyShare is the share of agencies that routinely resolve after the deadline.
const lateAgencyShare = 0.12

func agencyProfile(seed uint64, agency string) profile {
	r := seeded(seed, "agency", agency)
	p := profile{
		takeMedian:    time.Duration(5+r.IntN(55)) * time.Minute,
		resolveMedian: time.Duration(90+r.IntN(210)) * time.Minute, // 1.5–5 h
		sigma:         0.45 + 0.4*r.Float64(),
		rejectShare:   0.02 + 0.06*r.Float64(),
		reassignShare: 0.02 + 0.05*r.Float64(),
	}
	if r.Float64() < lateAgencyShare {
		p.late = true
		p.resolveMedian = time.Duration(9*60+r.IntN(4*60)) * time.Minute // 9–13 h: past the 8 h as a rule
		p.sigma = 0.3 + 0.2*r.Float64()
	}
	return p
}

// categoryFactor stretches resolution times by category: a pothole takes longer than a rubbish bin.
func categoryFactor(seed uint64, category string) float64 {
	return 0.7 + 0.7*seeded(seed, "category", category).Float64()
}

// logNormal draws a duration with the given median and spread.
func logNormal(r *rand.Rand, median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64())).Round(time.Second)
}

var reportTexts = []string{
	"Проблема устранена, работы выполнены в полном объёме.",
	"Выезд бригады состоялся, неисправность устранена. Фотоотчёт прилагается.",
	"Работы выполнены, территория приведена в порядок.",
	"Проведено обследование, недостатки устранены силами подрядной организации.",
	"Заявителю дан ответ, вопрос решён. Контроль за исполнением оставлен за ведомством.",
	"Аварийная ситуация ликвидирована, подача ресурса восстановлена.",
	"Вывоз произведён, контейнерная площадка убрана.",
	"Ремонт выполнен, результат проверен на месте.",
}

var rejectTexts = []string{
	"Не относится к компетенции ведомства: территория находится в частной собственности.",
	"Обращение направлено не по адресу, просим переназначить на администрацию муниципального образования.",
	"Объект не находится на обслуживании ведомства.",
}

const mediaHost = "https://media.cur62.example/reports/"
