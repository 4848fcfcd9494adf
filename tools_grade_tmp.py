import sys, time, tempfile, os
from pathlib import Path
sys.path.insert(0, '/work/main')
os.environ.setdefault("DLCOURSE_PROFILE","fast"); os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL","2")
from tests.conftest import grade_submissions, ROOT
from autograder import notebooks
def main():
  lesson = sys.argv[1]
  which = [a for a in sys.argv[2:] if not a.startswith("-")] or ["solution","released"]
  subs = {}
  if "solution" in which: subs["sol"] = {f"{lesson}.ipynb": notebooks.read(ROOT/"solutions"/lesson/f"{lesson}.ipynb")}
  if "released" in which: subs["blank"] = {f"{lesson}.ipynb": notebooks.read(ROOT/"lessons"/lesson/f"{lesson}.ipynb")}
  tmp = Path(tempfile.mkdtemp())
  t=time.time()
  g = grade_submissions(tmp, ROOT, lesson, subs)
  for s,o in g.outcomes.items():
      print(s, o.score, o.max_score, o.reason[:300], o.flags, round(o.seconds,1))
      for gid,(sc,mx,txt) in g.cell_results(s).items():
          if (s=="sol" and sc<mx) or (s=="blank" and sc>0) or '-v' in sys.argv: print("   ", gid, sc, mx, txt[-600:].replace("\n"," | "))
  print("total", time.time()-t)

if __name__=='__main__': main()