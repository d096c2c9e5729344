"""Trains the starter model and saves it with skops (the golden-path format).

Replace the data loading and the estimator with your own; keep the feature names
and order in step with `inputs` in paved.yaml. Run it in the exact Python
environment the python-sklearn image serves with (same interpreter, same pins):

    npx paved train .

(`paved init --data your.csv --label COL` writes a train.py for your own table.)
"""
import numpy as np
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklego.datasets import load_arrests

SEED = 42
FEATURES = ["age", "employed", "citizen", "checks", "year"]

df = load_arrests(as_frame=True)
X = df[FEATURES].replace({"Yes": 1.0, "No": 0.0}).astype(np.float32).to_numpy()
y = (df["released"] == "Yes").astype(int).to_numpy()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED, stratify=y)

model = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", random_state=SEED))
model.fit(X_train, y_train)
print(f"held-out accuracy {model.score(X_test, y_test):.3f}")
sio.dump(model, "model.skops")
