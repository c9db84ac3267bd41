// Package classify predicts the category, theme and responsible agency (executor) of a citizen appeal
// from its Russian text.
//
// The model is linear and small on purpose: it has to be retrained from a CSV in seconds, reproduced
// bit for bit from the same data, shipped inside the binary and run at tens of thousands of texts per
// second per core. Texts become hashed sparse features (stemmed word unigrams and bigrams plus character
// n-grams inside words), weighted TF-IDF style, and each of the three heads is a multinomial logistic
// regression over them. A curator-edited taxonomy (YAML) adds categories the data lacks and keyword rules
// that override the model.
package classify
