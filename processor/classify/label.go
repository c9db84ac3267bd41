package classify

// Label is one predicted class with its probability-like confidence in [0,1].
type Label struct {
	Name string  `json:"name"`
	Conf float32 `json:"conf"`
}

// Top3 holds the best three labels of each head, best first (fewer when a head has fewer classes).
type Top3 struct {
	Category []Label `json:"category"`
	Theme    []Label `json:"theme"`
	Executor []Label `json:"executor"`
}

// Prediction is what a Classifier says about one text. Rule names the taxonomy rule that decided the
// category, empty when the model did.
type Prediction struct {
	Category, Theme, Executor Label
	Top3                      Top3
	Rule                      string
}

// Classifier predicts the labels of a text. Implementations are safe for concurrent use.
type Classifier interface {
	Classify(text string) Prediction
}
