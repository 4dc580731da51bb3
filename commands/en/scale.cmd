intent scale
en: scale [(up|down|out|in)] [(service|group|asg)] {target} to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} {delta}
en: scale {target} by {delta}
en: set {target} to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} (up|out) by {delta+} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale (up|out) {target} by {delta+} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} (down|in) by {delta-} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale (down|in) {target} by {delta-} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} (up|out) {delta+}
en: scale {target} (down|in) {delta-}
en: (add|give) {delta+} [more] (instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers) to {target}
en: (add|give) {target} {delta+} [more] (instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)
en: remove {delta-} (instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers) from {target}
en: (increase|bump|grow|raise) {target} by {delta+} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (decrease|reduce|shrink|drop|lower|cut) {target} by {delta-} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} (up|down|out|in) to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (bump|push|turn|crank) {target} up by {delta+} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (bump|push|turn|knock|bring) {target} down by {delta-} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (bump|push) up {target} by {delta+} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (increase|raise|grow|bump) {target} to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (decrease|reduce|shrink|lower|cut|drop) {target} to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (set|change|update|adjust) [desired] (count|capacity|size) (of|for|on) {target} to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: (set|change|update|adjust) {target} [desired] (count|capacity|size) to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
en: scale {target} from {_} to {count} [(instances|instance|tasks|task|replicas|replica|nodes|node|copies|containers|servers)]
